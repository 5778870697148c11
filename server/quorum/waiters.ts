// Requests waiting on the replicated log: a write waits for its index to apply (with the term it was
// proposed in — another term there means it was lost), reads wait for a zxid or a ReadIndex answer.
import { ZkError } from '../errors.js';
import { ZxidWaits } from '../zxid-waits.js';
import type { Committed } from '../pipeline.js';
import type { ApplyResult } from '../tree/types.js';

interface WriteWaiter {
  term: number;
  resolve: (r: ApplyResult) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * Results kept after apply for a writer that registers late (a follower learns its index by message, usually before
 * the entry applies here): the newest RECENT_RESULTS, and within RECENT_WEIGHT, twice those at most. A result's weight
 * is its ops and watch triggers: a multi of 1,000 creates holds 1,000 stats and 2,000 triggers, so a count alone let
 * a member that applied a stream of large multis keep ~8,000 of them (850 MB of heap after a 1M-znode fill).
 */
const RECENT_RESULTS = 4096;
const RECENT_WEIGHT = 16384;

/** What a kept result costs, in ops and triggers (about a stat and an ACL list each). */
function weightOf(result: ApplyResult | undefined): number {
  if (!result) return 1;
  const o = result.outcome;
  const ops = o.ok ? (o.value.kind === 'multi' ? o.value.results.length : 0) : (o.results?.length ?? 0);
  return 1 + ops + result.triggers.length;
}

export class ZkWaiters {
  private writes = new Map<number, WriteWaiter>();
  private readonly zxids = new ZxidWaits();
  private reads = new Map<string, { resolve: (index: number) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }>();
  private recent = new Map<number, { term: number; result?: ApplyResult; weight: number }>();
  private recentWeight = 0;
  private idleWaiters: (() => void)[] = [];
  private applied = 0;

  /** `committed`: the commit index this member knows, to tell a write committed but not applied here from one not committed. */
  constructor(private readonly committed: () => number = () => 0) {}

  get size(): number {
    return this.writes.size;
  }

  get pendingReads(): number {
    return this.reads.size;
  }

  wait(index: number, term: number, timeoutMs: number): Promise<ApplyResult> {
    const seen = this.recent.get(index);
    if (seen) return seen.term === term && seen.result ? Promise.resolve(seen.result) : Promise.reject(lost(index));
    if (index <= this.applied) return Promise.reject(new ZkError('ConnectionLoss', `write at ${index} applied but its result is gone; its outcome is unknown`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.writes.delete(index);
        this.checkIdle();
        // Committed but not applied here: this member is behind (catching up); the result is the transaction's, unknown here.
        const why =
          this.committed() >= index
            ? `write committed at zxid ${index}, but not applied on this member within the timeout (it is behind its leader); its result is unknown here: read it on another server`
            : 'write not committed within the timeout; its outcome is unknown';
        reject(new ZkError('ConnectionLoss', why));
      }, timeoutMs);
      this.writes.set(index, { term, resolve, reject, timer });
    });
  }

  waitApplied(zxid: number, current: number, timeoutMs: number): Promise<void> {
    this.applied = Math.max(this.applied, current);
    return this.zxids.wait(zxid, timeoutMs, () => this.applied);
  }

  waitRead(ctx: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(ctx);
        reject(new ZkError('ConnectionLoss', 'the leader did not confirm a read index in time (no quorum?)'));
      }, timeoutMs);
      this.reads.set(ctx, { resolve, reject, timer });
    });
  }

  readReady(ctx: string, index: number): void {
    const r = this.reads.get(ctx);
    if (!r) return;
    clearTimeout(r.timer);
    this.reads.delete(ctx);
    r.resolve(index);
  }

  /** Entries applied (every committed index with its term) and the results of those that were transactions. */
  onApplied(entries: { index: number; term: number }[], done: Committed[], appliedIndex: number): void {
    const results = new Map(done.map((d) => [d.zxid, d.result]));
    for (const e of entries) {
      const result = results.get(e.index);
      const weight = weightOf(result);
      this.recentWeight += weight - (this.recent.get(e.index)?.weight ?? 0);
      this.recent.set(e.index, { term: e.term, result, weight });
      const w = this.writes.get(e.index);
      if (!w) continue;
      this.writes.delete(e.index);
      clearTimeout(w.timer);
      if (w.term === e.term && result) w.resolve(result);
      else w.reject(lost(e.index));
    }
    // Cut back to the newest RECENT_RESULTS within RECENT_WEIGHT once twice either is kept: dropping the oldest one
    // at a time costs a walk over the deleted slots at the front of the Map's table on every write.
    if (this.recent.size > 2 * RECENT_RESULTS || this.recentWeight > 2 * RECENT_WEIGHT) this.trimRecent();
    this.applied = Math.max(this.applied, appliedIndex);
    this.zxids.release(this.applied);
    this.checkIdle();
  }

  /** Keeps the newest results, at most RECENT_RESULTS of them and RECENT_WEIGHT together (the newest one always). */
  private trimRecent(): void {
    const kept: [number, { term: number; result?: ApplyResult; weight: number }][] = [];
    let weight = 0;
    for (const e of [...this.recent].reverse()) {
      if (kept.length > 0 && (kept.length >= RECENT_RESULTS || weight + e[1].weight > RECENT_WEIGHT)) break;
      kept.push(e);
      weight += e[1].weight;
    }
    this.recent = new Map(kept.reverse());
    this.recentWeight = weight;
  }

  /**
   * The state jumped to `index` by a snapshot install: the entries up to it were applied on the leader's side, not
   * here, so the writes waiting on them cannot learn their results. They are told at once that the outcome is
   * unknown (the client re-reads), rather than when their timeout ends; waits for a zxid up to it are over.
   */
  onInstalled(index: number): void {
    for (const [i, w] of this.writes) {
      if (i > index) continue;
      this.writes.delete(i);
      clearTimeout(w.timer);
      w.reject(new ZkError('ConnectionLoss', `write at ${i} was applied as part of a snapshot of the leader's state; its outcome is unknown`));
    }
    this.onApplied([], [], index);
  }

  idle(timeoutMs: number): Promise<void> {
    if (this.writes.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => (clearTimeout(t), resolve()));
    });
  }

  private checkIdle(): void {
    if (this.writes.size === 0) for (const r of this.idleWaiters.splice(0)) r();
  }

  failAll(e: unknown): void {
    for (const w of this.writes.values()) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.writes.clear();
    for (const r of this.reads.values()) {
      clearTimeout(r.timer);
      r.reject(e);
    }
    this.reads.clear();
    this.checkIdle();
  }
}

function lost(index: number): ZkError {
  // The leader that accepted it lost its term before committing it: never applied, safe to retry.
  return new ZkError('ConnectionLoss', `write at ${index} was superseded by a new leader and not applied`, { applied: false });
}
