// The read-only view of durable state that the core relies on (the Storage contract), and
// MemoryStorage, the reference implementation used by tests and the simulator.

import assert from 'node:assert/strict';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { entrySizeBytes } from './types.js';

export type StorageErrorCode = 'compacted' | 'unavailable' | 'snapshot-temporarily-unavailable';

/** The only errors a Storage may throw; the core recovers from each (e.g. by sending a snapshot). */
export class StorageError extends Error {
  constructor(readonly code: StorageErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'StorageError';
  }
}

export interface InitialState {
  hardState: HardState;
  confState: ConfState;
}

/**
 * What the core reads. Everything returned must already be durable or be part of a Ready the
 * application is persisting; the core never writes through this interface.
 */
export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi), at least one if lo < hi, stopping before the total passes maxBytes. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i, valid for i in [firstIndex()-1, lastIndex()] (firstIndex()-1 = snapshot). */
  term(i: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, voters: [], learners: [] }, data: new Uint8Array(0) };
}

/**
 * Entries live in an array whose slot 0 is a sentinel standing for the snapshot (its index and
 * term), so term(firstIndex-1) is always answerable.
 */
export class MemoryStorage implements Storage {
  private hard: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ index: 0, term: 0, type: 'noop', data: new Uint8Array(0) }];

  initialState(): InitialState {
    const { voters, learners } = this.snap.metadata;
    return { hardState: { ...this.hard }, confState: { voters: [...voters], learners: [...learners] } };
  }

  hardState(): HardState {
    return { ...this.hard };
  }

  setHardState(hardState: HardState): void {
    this.hard = { ...hardState };
  }

  private offset(): number {
    return this.ents[0].index;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  term(i: number): number {
    const offset = this.offset();
    if (i < offset) {
      throw new StorageError('compacted', `term(${i}) below snapshot ${offset}`);
    }
    if (i > this.lastIndex()) {
      throw new StorageError('unavailable', `term(${i}) beyond last index ${this.lastIndex()}`);
    }
    return this.ents[i - offset].term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) {
      throw new StorageError('compacted', `entries from ${lo} but snapshot is at ${offset}`);
    }
    if (hi > this.lastIndex() + 1) {
      throw new StorageError('unavailable', `entries to ${hi} beyond last ${this.lastIndex()}`);
    }
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /**
   * Appends entries, first discarding every entry at or after entries[0].index: that is how a
   * follower's conflicting suffix is truncated. Entries already covered by the snapshot are ignored.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) {
      return;
    }
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) {
      return;
    }
    const usable = entries[0].index < first ? entries.slice(first - entries[0].index) : entries;
    const start = usable[0].index;
    assert.ok(start <= this.lastIndex() + 1, `append at ${start} leaves a gap after ${this.lastIndex()}`);
    const keep = start - this.offset();
    this.ents = this.ents.slice(0, keep).concat(usable);
    assertContiguous(this.ents, keep);
  }

  /** Replaces the whole log with the snapshot; used when a follower installs one from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    if (index <= this.snap.metadata.index) {
      throw new StorageError('compacted', `snapshot ${index} older than ${this.snap.metadata.index}`);
    }
    this.snap = snapshot;
    this.ents = [{ index, term: snapshot.metadata.term, type: 'noop', data: new Uint8Array(0) }];
  }

  /** Records a snapshot of the application's state at an index it has applied (≤ lastIndex). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new StorageError('compacted', `snapshot ${index} not newer than ${this.snap.metadata.index}`);
    }
    assert.ok(index <= this.lastIndex(), `snapshot ${index} beyond last index ${this.lastIndex()}`);
    const term = this.ents[index - this.offset()].term;
    this.snap = {
      metadata: { index, term, voters: [...confState.voters], learners: [...confState.learners] },
      data,
    };
    return this.snap;
  }

  /** Drops entries up to and including `index`; a snapshot covering them must already exist. */
  compact(index: number): void {
    const offset = this.offset();
    if (index <= offset) {
      return;
    }
    assert.ok(index <= this.lastIndex(), `compact ${index} beyond last index ${this.lastIndex()}`);
    assert.ok(index <= this.snap.metadata.index, `compact ${index} past snapshot ${this.snap.metadata.index}`);
    const sentinel: Entry = { index, term: this.ents[index - offset].term, type: 'noop', data: new Uint8Array(0) };
    this.ents = [sentinel].concat(this.ents.slice(index - offset + 1));
  }

  clone(): MemoryStorage {
    const copy = new MemoryStorage();
    copy.hard = { ...this.hard };
    copy.snap = this.snap;
    copy.ents = this.ents.slice();
    return copy;
  }
}

/** Keeps at least one entry, then as many as fit within maxBytes. */
export function limitSize(entries: Entry[], maxBytes: number): Entry[] {
  if (entries.length === 0) {
    return entries;
  }
  let size = entrySizeBytes(entries[0]);
  let count = 1;
  while (count < entries.length) {
    size += entrySizeBytes(entries[count]);
    if (size > maxBytes) {
      break;
    }
    count++;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}

function assertContiguous(entries: Entry[], from: number): void {
  for (let i = Math.max(1, from); i < entries.length; i++) {
    assert.equal(entries[i].index, entries[i - 1].index + 1, 'log entries must be contiguous');
    assert.ok(entries[i].term >= entries[i - 1].term, 'log terms must not decrease');
  }
}
