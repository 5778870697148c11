// The leader's view of one follower or learner: how much of the log it holds (match/next), how
// replication to it proceeds (probe/replicate/snapshot), and the bounded window of in-flight appends.

import assert from 'node:assert/strict';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** Ring of (last index, bytes) of appends sent but not yet acknowledged, bounded in count and bytes. */
export class Inflights {
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  count = 0;
  bytes = 0;

  constructor(readonly maxMessages: number, readonly maxBytes: number) {
    assert.ok(maxMessages > 0, 'maxInflightMsgs must be positive');
    this.indexes = new Array<number>(maxMessages).fill(0);
    this.sizes = new Array<number>(maxMessages).fill(0);
  }

  full(): boolean {
    return this.count === this.maxMessages || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  add(index: number, bytes: number): void {
    assert.ok(!this.full(), 'cannot add to a full inflight window');
    const slot = (this.start + this.count) % this.maxMessages;
    if (this.count > 0) {
      const previous = this.indexes[(slot + this.maxMessages - 1) % this.maxMessages];
      assert.ok(index > previous, `inflight ${index} not after ${previous}`);
    }
    this.indexes[slot] = index;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every append whose last index is <= index (they are acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.indexes[this.start] <= index) {
      this.bytes -= this.sizes[this.start];
      this.start = (this.start + 1) % this.maxMessages;
      this.count--;
    }
    if (this.count === 0) {
      this.start = 0;
      this.bytes = 0;
    }
  }

  freeFirstOne(): void {
    if (this.count > 0) {
      this.freeLE(this.indexes[this.start]);
    }
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}

export class Progress {
  match = 0;
  state: ProgressState = 'probe';
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** In probe state: one append is outstanding, wait for its answer or a heartbeat response. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;

  constructor(public next: number, readonly isLearner: boolean, maxInflightMsgs: number, maxInflightBytes: number) {
    assert.ok(next >= 1, 'next index starts at 1');
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    assert.ok(snapshotIndex > 0, 'snapshot index must be positive');
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** The match at which the leader last probed this follower for holding more than it acknowledged (leader.ts). */
  checkedAbove = -1;
  /** The match at the first heartbeat answer of the last round: whether it has taken appends since (leader.ts). */
  matchAtHeartbeat = -1;
  /** Set by each heartbeat round: the first answer after it may send the follower an append (leader.ts). */
  heartbeatRound = false;

  /** The follower no longer holds what it acknowledged: probe again from its last index `n`. */
  regressTo(n: number): void {
    this.resetState('probe');
    this.match = n;
    this.next = n + 1;
  }

  /** Records an append just sent: optimistic in replicate state, one-at-a-time in probe state. */
  sentEntries(lastIndex: number, entryCount: number, bytes: number): void {
    switch (this.state) {
      case 'replicate':
        if (entryCount > 0) {
          assert.equal(lastIndex, this.next + entryCount - 1, 'replicate sends from next');
          this.next = lastIndex + 1;
          this.inflights.add(lastIndex, bytes);
        }
        return;
      case 'probe':
        this.msgAppFlowPaused = true;
        return;
      case 'snapshot':
        assert.fail('no appends are sent while a snapshot is in flight');
    }
  }

  /** An acknowledgement up to n; false if it tells us nothing new (stale or duplicate). */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) {
      return false;
    }
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * A rejection of the append that followed `rejected`; `matchHint` is the highest index that
   * may still match. False when the rejection is stale (it answers an older probe).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) {
        return false;
      }
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) {
      return false;
    }
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.msgAppFlowPaused;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  describe(): string {
    const paused = this.isPaused() ? ' paused' : '';
    const snap = this.state === 'snapshot' ? ` pendingSnap=${this.pendingSnapshot}` : '';
    const inflight = this.inflights.count > 0 ? ` inflight=${this.inflights.count}` : '';
    const learner = this.isLearner ? ' learner' : '';
    return `${this.state} match=${this.match} next=${this.next}${learner}${snap}${inflight}${paused}`;
  }
}
