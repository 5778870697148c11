// The write loop of a standalone node. Transactions queue (bounded), get their zxids in batches and go to the
// write-ahead log, which makes them durable with one synchronous write for everything that arrived during
// the previous flush (group commit). Durable batches are then applied in zxid order, several per LMDB
// transaction, without waiting for LMDB's own flush; only then are their watchers told and writers answered.
// While one group flushes the next one is already forming, so the disk's flush latency is paid once per group.
import { ZkError } from './errors.js';
import { ZxidWaits } from './zxid-waits.js';
import { applyTxn } from './tree/apply.js';
import type { ApplyResult, Txn } from './tree/types.js';
import type { Store } from '../storage/store.js';
import type { Wal } from '../storage/wal.js';
import type { Engine, EngineHooks, Mode } from './engine.js';
import type { StartupStep } from './startup-trace.js';
import { sessionOfTxn } from './session-epochs.js';

export interface Committed {
  zxid: number;
  txn: Txn;
  result: ApplyResult;
}

interface Pending {
  txn: Txn;
  bytes: number;
  resolve: (r: { zxid: number; result: ApplyResult }) => void;
  reject: (e: unknown) => void;
}

/** A batch handed to the log: `first` is the zxid of its first transaction. */
interface Logged {
  first: number;
  items: Pending[];
  durable: boolean;
}

export interface PipelineLimits {
  maxPendingWrites: number;
  maxBatchTxns: number;
  maxBatchBytes: number;
}

function txnBytes(txn: Txn): number {
  switch (txn.type) {
    case 'create':
    case 'set':
      return txn.data.length + 64;
    case 'multi':
      return txn.ops.reduce((n, op) => n + ('data' in op ? op.data.length : 0) + 64, 0);
    default:
      return 64;
  }
}

/**
 * Applies what the log holds beyond the store's last zxid (a crash between the log's flush and LMDB's),
 * in bounded LMDB transactions, and waits for LMDB to flush them. Returns the number replayed.
 */
export async function replayWal(store: Store, wal: Wal<Txn>, chunk = 1000): Promise<number> {
  let n = 0;
  for (const records of wal.recordsAfter(store.lastZxid(), chunk)) {
    await store.writeApplied((view, setLastZxid) => {
      for (const r of records) applyTxn(view, r.value, r.zxid);
      setLastZxid((records[records.length - 1] as { zxid: number }).zxid);
    });
    n += records.length;
  }
  await store.flushed();
  wal.release(store.lastZxid());
  return n;
}

/** Applied transactions not yet committed to LMDB before applying stops to let it catch up (memory bound). */
export const MAX_UNCOMMITTED_TXNS = 20000;

export class WritePipeline implements Engine {
  readonly mode: Mode = 'standalone';
  readonly leaderlessMs = 0;
  readonly catchingUp = false;
  readonly isWriter = true;
  private queue: Pending[] = [];
  /** Batches in the log or on their way to it, in zxid order; the durable prefix is applied next. */
  private logged: Logged[] = [];
  /** Writes accepted and not yet answered: what maxPendingWrites bounds. */
  private outstanding = 0;
  private lastLogged: number;
  private scheduled = false;
  private waitingForLmdb = false;
  private stopping = false;
  private failed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly zxidWaits = new ZxidWaits();
  /** Highest zxid applied and durable; what ZK-Zxid reports. */
  appliedZxid: number;

  constructor(
    private readonly store: Store,
    readonly wal: Wal<Txn>,
    private readonly limits: PipelineLimits,
    private readonly hooks: EngineHooks,
  ) {
    this.appliedZxid = store.lastZxid();
    this.lastLogged = this.appliedZxid;
  }

  async recover(step: StartupStep = () => {}): Promise<void> {
    // After a crash, the records LMDB had not flushed.
    step("replaying the write-ahead log past LMDB's last flush, if anything");
    await replayWal(this.store, this.wal);
    this.appliedZxid = this.store.lastZxid();
    this.lastLogged = this.appliedZxid;
  }

  async start(): Promise<void> {}

  async readBarrier(): Promise<number> {
    return this.appliedZxid;
  }

  async stop(): Promise<void> {
    await this.drain();
    if (this.failed) return this.wal.close();
    await this.store.appliedCommitted();
    await this.store.flushed();
    await this.wal.retire();
  }

  get pending(): number {
    return this.outstanding;
  }

  submit(txn: Txn, epoch?: number): Promise<{ zxid: number; result: ApplyResult }> {
    if (this.stopping || this.failed) return Promise.reject(new ZkError('ConnectionLoss', 'server is shutting down', { applied: false }));
    try {
      this.hooks.admitSessionEpoch?.(sessionOfTxn(txn), epoch);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.outstanding >= this.limits.maxPendingWrites) {
      return Promise.reject(new ZkError('ConnectionLoss', `write queue is full (${this.limits.maxPendingWrites} pending)`, { applied: false }));
    }
    this.outstanding++;
    return new Promise((resolve, reject) => {
      this.queue.push({ txn, bytes: txnBytes(txn), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // One turn of the event loop lets concurrent requests join the batch.
        setImmediate(() => this.toLog());
      }
    });
  }

  /** Resolves once this node has applied `zxid`, or rejects with ConnectionLoss after `timeoutMs`. */
  waitForZxid(zxid: number, timeoutMs: number): Promise<void> {
    return this.zxidWaits.wait(zxid, timeoutMs, () => this.appliedZxid);
  }

  /** Stops taking writes and resolves when every accepted write is durable and answered. */
  async drain(): Promise<void> {
    this.stopping = true;
    if (this.outstanding === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private takeBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < this.limits.maxBatchTxns) {
      const p = this.queue[n] as Pending;
      if (n > 0 && bytes + p.bytes > this.limits.maxBatchBytes) break;
      bytes += p.bytes;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private toLog(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && !this.failed) {
      const items = this.takeBatch();
      const b: Logged = { first: this.lastLogged + 1, items, durable: false };
      this.lastLogged += items.length;
      this.logged.push(b);
      this.wal.append(items.map((p, i) => ({ zxid: b.first + i, value: p.txn }))).then(
        () => {
          b.durable = true;
          this.applyDurable();
        },
        (e: unknown) => this.fail(e),
      );
    }
  }

  /**
   * Applies the durable prefix of the log in memory (reads see it at once) and answers its writers; LMDB
   * commits it in the background. Beyond MAX_UNCOMMITTED_TXNS not yet in LMDB it waits for LMDB to catch up.
   */
  private applyDurable(): void {
    while (!this.failed && this.logged[0]?.durable && !this.waitingForLmdb) {
      if (this.store.pendingTxns >= MAX_UNCOMMITTED_TXNS) {
        this.waitingForLmdb = true;
        // A failed LMDB commit reaches fail() through its group's own promise; nothing to do here then.
        this.store.appliedCommitted().then(
          () => {
            this.waitingForLmdb = false;
            this.applyDurable();
          },
          () => {},
        );
        return;
      }
      let n = 0;
      let k = 0;
      while (k < this.logged.length && (this.logged[k] as Logged).durable && (k === 0 || n + (this.logged[k] as Logged).items.length <= this.limits.maxBatchTxns)) {
        n += (this.logged[k] as Logged).items.length;
        k++;
      }
      const group = this.logged.splice(0, k);
      const last = group[group.length - 1] as Logged;
      const zxid = last.first + last.items.length - 1;
      const done: Committed[] = [];
      try {
        const commit = this.store.applyPending(n, (view, setLastZxid) => {
          for (const b of group) {
            b.items.forEach((p, i) => done.push({ zxid: b.first + i, txn: p.txn, result: applyTxn(view, p.txn, b.first + i) }));
          }
          setLastZxid(zxid);
        });
        commit.then(
          () => this.wal.releaseWhen(() => this.store.flushed(), zxid, (e) => this.fail(e)),
          (e: unknown) => this.fail(e),
        );
      } catch (e) {
        this.logged.unshift(...group);
        this.fail(e);
        return;
      }
      this.appliedZxid = zxid;
      // Watch events go out before the responses, as ZooKeeper orders them.
      this.hooks.onCommitted(done);
      let i = 0;
      for (const b of group) {
        for (const p of b.items) {
          const { zxid: z, result } = done[i++] as Committed;
          p.resolve({ zxid: z, result });
        }
      }
      this.outstanding -= done.length;
      this.zxidWaits.release(zxid);
    }
    if (this.outstanding === 0) for (const r of this.idleWaiters.splice(0)) r();
  }

  /** A storage failure or a bug inside apply: the state on disk is no longer known to match memory. */
  private fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    for (const b of this.logged.splice(0)) for (const p of b.items) p.reject(new ZkError('ConnectionLoss', 'storage failure', { applied: undefined }));
    for (const p of this.queue.splice(0)) p.reject(new ZkError('ConnectionLoss', 'storage failure', { applied: false }));
    this.outstanding = 0;
    for (const r of this.idleWaiters.splice(0)) r();
    this.hooks.onFatal(e);
  }
}
