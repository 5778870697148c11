// One simulated server: a RawNode over a SimDisk, plus the toy state machine it applies to (an
// applied index and a digest chained over every applied entry) and its snapshot encoding.

import assert from 'node:assert/strict';
import { RawNode } from '../../../server/quorum/core/rawnode.js';
import { SeededRand } from '../../../server/quorum/core/rand.js';
import type { Role, Snapshot } from '../../../server/quorum/core/types.js';
import type { LogView } from './checker.js';
import { SimDisk } from './disk.js';

export const SIM_ELECTION_TICKS = 10;
export const SIM_HEARTBEAT_TICKS = 2;

export function encodeState(index: number, digest: number): Uint8Array {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, index);
  view.setUint32(8, digest);
  return bytes;
}

export function decodeState(data: Uint8Array): { index: number; digest: number } {
  assert.equal(data.byteLength, 12, 'simulated snapshot is 12 bytes');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { index: view.getFloat64(0), digest: view.getUint32(8) };
}

export class SimNode {
  raw: RawNode | null = null;
  readonly disk = new SimDisk();
  appliedIndex = 0;
  digest = 0;
  incarnation = 0;
  restartAt = 0;
  role: Role = 'follower';
  term = 0;
  /** The term in which this node was last seen leading, to detect each new leadership once. */
  ledTerm = 0;

  constructor(
    readonly id: number,
    readonly voters: number[],
    readonly learners: number[],
    private readonly seed: number,
    private readonly smallWindows: boolean,
  ) {}

  alive(): boolean {
    return this.raw !== null;
  }

  node(): RawNode {
    assert.ok(this.raw !== null, `node ${this.id} is down`);
    return this.raw;
  }

  /** Boots from whatever the disk durably holds, rebuilding the state machine from its snapshot. */
  start(): void {
    assert.ok(this.raw === null, `node ${this.id} is already running`);
    this.restoreState(this.disk.live.snapshot());
    // As the engine: an empty log is marked before the core exists; a mark left by a restart is resumed.
    if (this.disk.catchUp === null && this.disk.live.lastIndex() === 0) this.disk.catchUp = 'unheard';
    this.raw = new RawNode(
      {
        id: this.id,
        voters: this.voters,
        learners: this.learners,
        electionTicks: SIM_ELECTION_TICKS,
        heartbeatTicks: SIM_HEARTBEAT_TICKS,
        applied: this.appliedIndex,
        catchingUp: this.disk.catchUp,
        // Small windows in some seeds exercise the flow-control paths (paused, full inflights).
        maxSizePerMsg: this.smallWindows ? 1 : 4096,
        maxInflightMsgs: this.smallWindows ? 2 : 32,
        maxInflightBytes: this.smallWindows ? 128 : 0,
        maxUncommittedBytes: this.smallWindows ? 512 : 64 * 1024,
        rand: new SeededRand(this.seed * 7919 + this.id * 131 + this.incarnation),
      },
      this.disk.live,
    );
    this.role = this.learners.includes(this.id) ? 'learner' : 'follower';
    this.term = this.disk.live.initialState().hardState.term;
    this.ledTerm = 0;
    this.incarnation++;
  }

  stop(): void {
    this.raw = null;
  }

  restoreState(snapshot: Snapshot): void {
    if (snapshot.metadata.index === 0) {
      this.appliedIndex = 0;
      this.digest = 0;
      return;
    }
    const state = decodeState(snapshot.data);
    assert.equal(state.index, snapshot.metadata.index, 'snapshot data matches its metadata');
    this.appliedIndex = state.index;
    this.digest = state.digest;
  }

  logView(): LogView {
    const raw = this.node();
    const status = raw.status();
    return { term: (i) => raw.term(i), firstIndex: status.firstIndex, lastIndex: status.lastIndex };
  }
}
