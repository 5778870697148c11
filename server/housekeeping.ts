// The node's own writes: session expiries and container/TTL reaps, started by its timers while it is the writer. They
// go through the same write path as a client's, held to a share of the write queue so that they never crowd those out.
import type { ZkNode } from './node.js';
import { findReapable, sweepBudget, SWEEP_CHUNK } from './sweeper.js';
import type { ApplyResult, Txn } from './tree/types.js';

export class Housekeeper {
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  /** Where the next container/TTL sweep goes on in the index (server/sweeper.ts); leader-local, not replicated. */
  private sweepFrom: string | undefined;
  /** A sweep's next chunk is scheduled: the next interval does not start another over it. */
  private sweeping = false;
  /** What the current sweep may still examine and reap; kept while it waits for room in the write queue. */
  private sweepLeft: { scan: number; reaps: number } | undefined;
  /** The node's own writes (expiries, reaps) submitted and not yet settled (see housekeepingRoom). */
  private housekeeping = 0;

  constructor(
    private readonly node: ZkNode,
    private readonly submit: (txn: Txn) => Promise<{ zxid: number; result: ApplyResult }>,
  ) {}

  start(): void {
    const tick = Math.max(10, Math.min(this.node.cfg.tickTime, 1000));
    // The awake clock is observed as often as sessions are checked: a gap of more than a tick is a stall.
    this.node.awake.start(tick);
    this.timers.push(setInterval(() => this.expireSessions(), tick));
    this.timers.push(setInterval(() => this.sweep(), this.node.cfg.containerCheckIntervalMs));
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    this.stopped = true;
    this.node.awake.stop();
    for (const t of this.timers) clearInterval(t);
  }

  /**
   * Room for the node's own writes (session expiries, reaps) in the write queue: a tenth of maxPendingWrites at
   * once, so that thousands of sessions expiring together, or a sweep with thousands of reaps, cannot fill the queue
   * and have clients' writes refused.
   */
  private housekeepingRoom(): number {
    return Math.max(1, Math.floor(this.node.cfg.maxPendingWrites / 10)) - this.housekeeping;
  }

  /** Submits one of the node's own writes, counted against housekeepingRoom until it settles. */
  private submitHousekeeping(txn: Txn): Promise<{ zxid: number; result: ApplyResult }> {
    this.housekeeping++;
    const p = this.submit(txn);
    p.then(
      () => this.housekept(true),
      () => this.housekept(false),
    );
    return p;
  }

  private housekept(committed: boolean): void {
    this.housekeeping--;
    // Expiries and reaps held back for room go out as soon as a batch is through, not a tick or a sweep later; only
    // after progress, so a queue that keeps refusing them is tried again on the next tick rather than in a loop.
    if (!committed || this.housekeeping > 0 || this.stopped) return;
    setImmediate(() => {
      this.expireSessions();
      if (this.sweepLeft && !this.sweeping) this.sweepChunk();
    });
  }

  private expireSessions(): void {
    if (!this.node.engine.isWriter || this.stopped) return;
    const room = this.housekeepingRoom();
    if (room <= 0) return;
    for (const id of this.node.sessions.takeExpired(room)) {
      this.node.log.info({ sessionId: id }, 'session expired');
      const ephemerals = this.node.audit ? this.node.store.sessionEphemerals(id) : [];
      this.submitHousekeeping({ type: 'closeSession', sessionId: id, reason: 'expired' }).then(() => this.node.audit?.sessionEphemerals(id, ephemerals, 'success'), (e) => {
        // The expiry did not commit (e.g. leadership moved): let the next check try again.
        if (this.node.store.getSession(id)) this.node.sessions.unmarkClosing(id);
        this.node.log.warn({ err: e, sessionId: id }, 'expiring session failed; will retry');
      });
    }
  }

  /** Every containerCheckIntervalMs: a sweep with a fresh budget, unless one is still going through its chunks. */
  private sweep(): void {
    if (this.sweeping) return;
    this.sweepLeft = sweepBudget(this.node.cfg);
    this.sweepChunk();
  }

  /**
   * One chunk of the index, then the next in a later turn of the event loop, until the budget or the index ends.
   * With no room for its reaps in the write queue the sweep pauses, and housekept goes on with it once there is.
   */
  private sweepChunk(): void {
    this.sweeping = false;
    const left = this.sweepLeft;
    if (!left || this.stopped || !this.node.engine.isWriter) {
      this.sweepLeft = undefined;
      return;
    }
    const reaps = Math.min(left.reaps, this.housekeepingRoom());
    if (reaps <= 0) return;
    const got = findReapable(this.node.store, this.node.cfg, Date.now(), this.sweepFrom, Math.min(SWEEP_CHUNK, left.scan), reaps);
    this.sweepFrom = got.next;
    left.scan -= got.examined;
    left.reaps -= got.txns.length;
    for (const txn of got.txns) this.submitHousekeeping(txn).catch((e) => this.node.log.warn({ err: e }, 'reaping failed'));
    if (got.next === undefined || left.scan <= 0 || left.reaps <= 0) {
      this.sweepLeft = undefined;
      return;
    }
    this.sweeping = true;
    setImmediate(() => this.sweepChunk());
  }
}
