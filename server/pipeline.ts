// The write loop of a standalone node: transactions queue (bounded), are applied in zxid order in batches,
// one LMDB transaction and one fsync per batch (group commit), and are answered only once durable.
import { ZkError } from './errors.js';
import { applyTxn } from './tree/apply.js';
import type { ApplyResult, Txn } from './tree/types.js';
import type { Store } from '../storage/store.js';
import type { Engine, EngineHooks, Mode } from './engine.js';

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

export class WritePipeline implements Engine {
  readonly mode: Mode = 'standalone';
  readonly isWriter = true;
  private queue: Pending[] = [];
  private running = false;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];
  private zxidWaiters: { zxid: number; resolve: () => void }[] = [];
  /** Highest zxid applied and durable; what ZK-Zxid reports. */
  appliedZxid: number;

  constructor(
    private readonly store: Store,
    private readonly limits: PipelineLimits,
    private readonly hooks: EngineHooks,
  ) {
    this.appliedZxid = store.lastZxid();
  }

  async start(): Promise<void> {}

  async readBarrier(): Promise<number> {
    return this.appliedZxid;
  }

  async stop(): Promise<void> {
    await this.drain();
  }

  get pending(): number {
    return this.queue.length;
  }

  submit(txn: Txn): Promise<{ zxid: number; result: ApplyResult }> {
    if (this.stopping) return Promise.reject(new ZkError('ConnectionLoss', 'server is shutting down', { applied: false }));
    if (this.queue.length >= this.limits.maxPendingWrites) {
      return Promise.reject(new ZkError('ConnectionLoss', `write queue is full (${this.limits.maxPendingWrites} pending)`, { applied: false }));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ txn, bytes: txnBytes(txn), resolve, reject });
      if (!this.running) void this.run();
    });
  }

  /** Resolves once this node has applied `zxid`, or rejects with ConnectionLoss after `timeoutMs`. */
  waitForZxid(zxid: number, timeoutMs: number): Promise<void> {
    if (zxid <= this.appliedZxid) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = { zxid, resolve: () => {} };
      const timer = setTimeout(() => {
        this.zxidWaiters = this.zxidWaiters.filter((x) => x !== w);
        reject(new ZkError('ConnectionLoss', `this node has not reached zxid ${zxid} within ${timeoutMs} ms (at ${this.appliedZxid})`));
      }, timeoutMs);
      w.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      this.zxidWaiters.push(w);
    });
  }

  /** Stops taking writes and resolves when every queued write is durable and answered. */
  async drain(): Promise<void> {
    this.stopping = true;
    if (!this.running && this.queue.length === 0) return;
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

  private async run(): Promise<void> {
    this.running = true;
    // One turn of the event loop lets concurrent requests join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const done: Committed[] = [];
      let zxid = this.appliedZxid;
      try {
        await this.store.writeDurably((view, setLastZxid) => {
          for (const p of batch) {
            zxid++;
            done.push({ zxid, txn: p.txn, result: applyTxn(view, p.txn, zxid) });
          }
          setLastZxid(zxid);
        });
      } catch (e) {
        // A storage failure or a bug inside apply: the state on disk is no longer known to match memory.
        for (const p of batch) p.reject(new ZkError('ConnectionLoss', 'storage failure', { applied: undefined }));
        for (const p of this.queue.splice(0)) p.reject(new ZkError('ConnectionLoss', 'storage failure', { applied: false }));
        this.running = false;
        this.hooks.onFatal(e);
        return;
      }
      this.appliedZxid = zxid;
      // Watch events go out before the responses, as ZooKeeper orders them.
      this.hooks.onCommitted(done);
      for (let i = 0; i < batch.length; i++) {
        const c = done[i] as Committed;
        (batch[i] as Pending).resolve({ zxid: c.zxid, result: c.result });
      }
      if (this.zxidWaiters.length > 0) {
        const ready = this.zxidWaiters.filter((w) => w.zxid <= zxid);
        this.zxidWaiters = this.zxidWaiters.filter((w) => w.zxid > zxid);
        for (const w of ready) w.resolve();
      }
    }
    this.running = false;
    for (const r of this.idleWaiters.splice(0)) r();
  }
}
