// What a run records: every client operation with invoke/complete times and outcome, the watchers'
// event streams, and the nemesis timeline. Times are milliseconds since the run started (monotonic).

export type Outcome = 'ok' | 'fail' | 'unknown';

interface Timed {
  id: number;
  client: number;
  /** Node the request went to. */
  node: number;
  call: number;
  /** Completion time for the checker: Infinity when the outcome is unknown (it may take effect at any later time). */
  ret: number;
  /** When the client stopped waiting (for latency plots), also for unknown outcomes. */
  end?: number;
  outcome: Outcome;
  /** ZooKeeper error name for a definite failure, or why the outcome is unknown. */
  error?: string;
  /** ZK-Zxid of the answer. */
  zxid?: number;
}

export interface RegisterOp extends Timed {
  type: 'register';
  f: 'create' | 'set' | 'delete' | 'get' | 'read';
  key: string;
  value?: string;
  /** Expected version of a conditional set/delete. */
  version?: number;
  /** Answer of a get/read or set/create: version, data and mzxid of the znode. */
  gotVersion?: number;
  gotValue?: string;
  mzxid?: number;
  /** ZK-Min-Zxid the client sent. */
  minZxid?: number;
}

export interface QueueOp extends Timed {
  type: 'queue';
  f: 'enqueue' | 'dequeue';
  value?: string;
  path?: string;
}

export interface SessionOp extends Timed {
  type: 'session';
  f: 'open' | 'keepalive' | 'close' | 'ephemeral' | 'probe';
  session?: string;
  path?: string;
  /** For a probe: the ephemerals found (linearizable reads) and whether the session was alive right after. */
  present?: string[];
  absent?: string[];
}

export type HistoryOp = RegisterOp | QueueOp | SessionOp;

export interface WatchEvent {
  t: number;
  kind: 'event' | 'resync' | 'established';
  event?: string;
  zxid: number;
  node: number;
}

export interface WatcherLog {
  watcher: number;
  key: string;
  events: WatchEvent[];
  /** Highest zxid the watcher is known to have been caught up to at the end (undefined: it never caught up). */
  endZxid?: number;
}

export interface NemesisEvent {
  t: number;
  end?: number;
  fault: string;
  detail: string;
}

export class History {
  readonly ops: HistoryOp[] = [];
  private nextId = 1;
  private nextClient = 1;
  readonly t0 = performance.now();

  now(): number {
    return performance.now() - this.t0;
  }

  newClient(): number {
    return this.nextClient++;
  }

  /** Records the invocation; the returned record is completed in place by the caller. */
  invoke<T extends HistoryOp>(op: Omit<T, 'id' | 'call' | 'ret' | 'outcome'>): T {
    const rec = { ...op, id: this.nextId++, call: this.now(), ret: Infinity, outcome: 'unknown' } as unknown as T;
    this.ops.push(rec);
    return rec;
  }

  complete(rec: HistoryOp, outcome: Outcome, extra: Partial<HistoryOp> = {}): void {
    Object.assign(rec, extra);
    rec.outcome = outcome;
    rec.end = this.now();
    rec.ret = outcome === 'unknown' ? Infinity : rec.end;
  }
}
