// A simulated disk for one node: writes become visible at once (the page cache) but survive a
// crash only once synced. Each write call is one atomic batch (one LMDB transaction: a Ready's
// snapshot, entries and hard state together); a crash keeps a random prefix of unsynced batches.

import assert from 'node:assert/strict';
import { MemoryStorage } from '../../../server/quorum/core/storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../../../server/quorum/core/types.js';
import type { CatchUp } from '../../../server/quorum/core/amnesia.js';

export type DiskWrite =
  | { kind: 'hardState'; hardState: HardState }
  | { kind: 'entries'; entries: Entry[] }
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'compact'; snapshotIndex: number; compactTo: number; confState: ConfState; data: Uint8Array };

export interface PrefixChooser {
  intn(bound: number): number;
}

function applyWrite(storage: MemoryStorage, write: DiskWrite): void {
  switch (write.kind) {
    case 'hardState':
      storage.setHardState(write.hardState);
      return;
    case 'entries':
      storage.append(write.entries);
      return;
    case 'snapshot':
      storage.applySnapshot(write.snapshot);
      return;
    case 'compact':
      storage.createSnapshot(write.snapshotIndex, write.confState, write.data);
      storage.compact(write.compactTo);
      return;
  }
}

export class SimDisk {
  private durable = new MemoryStorage();
  private pending: DiskWrite[][] = [];
  /** What a running node reads: everything written, synced or not. */
  live = new MemoryStorage();
  syncCount = 0;
  lostWrites = 0;
  /** The host's mark of a node that started with an empty log (server/quorum/empty-start.ts): written synced. */
  catchUp: CatchUp | null = null;

  /** The disk is replaced by an empty one; the node will mark that at its start, so it counts as marked already. */
  replace(): void {
    this.durable = new MemoryStorage();
    this.pending = [];
    this.live = new MemoryStorage();
    this.catchUp = 'unheard';
  }

  write(batch: DiskWrite[]): void {
    for (const write of batch) {
      applyWrite(this.live, write);
    }
    this.pending.push(batch);
  }

  sync(): void {
    for (const batch of this.pending) {
      for (const write of batch) {
        applyWrite(this.durable, write);
      }
    }
    this.pending = [];
    this.syncCount++;
  }

  /** Whether nothing of a log is durable here (no entry, no snapshot): a node that looks new after a restart. */
  holdsNoLog(): boolean {
    return this.durable.lastIndex() === 0;
  }

  unsynced(): number {
    return this.pending.length;
  }

  /** Power loss: any prefix of the unsynced batches may have reached the platter. */
  crash(chooser: PrefixChooser): void {
    const kept = chooser.intn(this.pending.length + 1);
    for (let i = 0; i < kept; i++) {
      for (const write of this.pending[i]) {
        applyWrite(this.durable, write);
      }
    }
    this.lostWrites += this.pending.length - kept;
    this.pending = [];
    this.live = this.durable.clone();
    const { hardState } = this.live.initialState();
    assert.ok(hardState.commit <= this.live.lastIndex(), 'durable commit beyond durable log: write order broken');
  }
}
