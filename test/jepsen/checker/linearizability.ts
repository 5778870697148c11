// A Wing & Gong / Lowe linearizability search in the style of Porcupine: per-partition, memoised on
// (set of linearized operations, model state), with a time budget whose expiry yields "unknown", never "ok".

/** One operation of a history. `ret` is Infinity when the outcome is unknown (it may or may not have happened). */
export interface Operation<I, O> {
  id: number;
  client: number;
  input: I;
  /** Output; undefined when the outcome is unknown. */
  output: O | undefined;
  call: number;
  ret: number;
}

export interface Model<S, I, O> {
  init(): S;
  /** Pure: the state after `input` produced `output` in `state`, or undefined when that is impossible. */
  step(state: S, input: I, output: O | undefined): S | undefined;
  hash(state: S): string;
  /** Splits a history into independent parts (e.g. one per key); all must be linearizable. */
  partition?(ops: Operation<I, O>[]): { key: string; ops: Operation<I, O>[] }[];
}

export type Verdict = 'ok' | 'illegal' | 'unknown';

export interface PartitionResult<I, O> {
  key: string;
  verdict: Verdict;
  ops: number;
  /** For an illegal history: the longest prefix the search could linearize, and the operations it could not place next. */
  longest?: Operation<I, O>[];
  stuckAt?: Operation<I, O>[];
}

export interface CheckResult<I, O> {
  verdict: Verdict;
  partitions: PartitionResult<I, O>[];
  elapsedMs: number;
}

interface Entry {
  op: number;
  isCall: boolean;
  /** Time, for sorting only. */
  t: number;
  prev: Entry | null;
  next: Entry | null;
  match: Entry | null;
}

/** Calls sort before returns at the same instant: intervals are closed, so touching operations are concurrent. */
function buildList<I, O>(ops: Operation<I, O>[]): Entry {
  const events: Entry[] = [];
  ops.forEach((o, i) => {
    const call: Entry = { op: i, isCall: true, t: o.call, prev: null, next: null, match: null };
    const ret: Entry = { op: i, isCall: false, t: o.ret, prev: null, next: null, match: null };
    call.match = ret;
    events.push(call, ret);
  });
  events.sort((a, b) => a.t - b.t || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, t: -Infinity, prev: null, next: null, match: null };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function lift(call: Entry): void {
  const ret = call.match as Entry;
  (call.prev as Entry).next = call.next;
  if (call.next) call.next.prev = call.prev;
  (ret.prev as Entry).next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match as Entry;
  (ret.prev as Entry).next = ret;
  if (ret.next) ret.next.prev = ret;
  (call.prev as Entry).next = call;
  if (call.next) call.next.prev = call;
}

class Bits {
  readonly w: Uint32Array;
  constructor(n: number) {
    this.w = new Uint32Array(Math.ceil(n / 32) || 1);
  }
  set(i: number): void {
    this.w[i >>> 5] = (this.w[i >>> 5] as number) | (1 << (i & 31));
  }
  clear(i: number): void {
    this.w[i >>> 5] = (this.w[i >>> 5] as number) & ~(1 << (i & 31));
  }
  key(): string {
    return Array.from(this.w, (x) => x.toString(36)).join(',');
  }
}

/** Checks one partition; `deadline` is an absolute Date.now() after which the answer is "unknown". */
export function checkPartition<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], deadline: number): { verdict: Verdict; longest?: Operation<I, O>[]; stuckAt?: Operation<I, O>[] } {
  if (ops.length === 0) return { verdict: 'ok' };
  const head = buildList(ops);
  const bits = new Bits(ops.length);
  const seen = new Set<string>();
  const stack: { call: Entry; state: S }[] = [];
  let state = model.init();
  let entry = head.next;
  let best: Entry[] = [];
  let stuckDepth = -1;
  let stuck: Operation<I, O>[] = [];
  let iterations = 0;
  while (head.next !== null) {
    if ((++iterations & 0x3ff) === 0 && Date.now() > deadline) return { verdict: 'unknown' };
    if (entry === null) throw new Error('linearizability search ran off the end of the history');
    if (entry.isCall) {
      const o = ops[entry.op] as Operation<I, O>;
      const next = model.step(state, o.input, o.output);
      if (next !== undefined) {
        bits.set(entry.op);
        const key = `${bits.key()}|${model.hash(next)}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ call: entry, state });
          state = next;
          lift(entry);
          if (stack.length > best.length) best = stack.map((s) => s.call);
          entry = head.next;
          continue;
        }
        bits.clear(entry.op);
      }
      entry = entry.next;
    } else {
      if (stack.length > stuckDepth) {
        // The deepest point the search reached: the operations it could not place next, for the report.
        stuckDepth = stack.length;
        stuck = [];
        for (let e: Entry | null = head.next; e && e !== entry; e = e.next) if (e.isCall) stuck.push(ops[e.op] as Operation<I, O>);
        stuck.push(ops[entry.op] as Operation<I, O>);
      }
      const top = stack.pop();
      if (!top) {
        if (stuckDepth < 0) stuck = [ops[entry.op] as Operation<I, O>];
        return { verdict: 'illegal', longest: best.map((e) => ops[e.op] as Operation<I, O>), stuckAt: stuck };
      }
      state = top.state;
      bits.clear(top.call.op);
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { verdict: 'ok' };
}

/** Checks every partition within `budgetMs` in total; any illegal partition makes the history illegal. */
export function checkLinearizable<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], budgetMs: number): CheckResult<I, O> {
  const start = Date.now();
  const deadline = start + budgetMs;
  const parts = model.partition ? model.partition(ops) : [{ key: '', ops }];
  const partitions: PartitionResult<I, O>[] = [];
  for (const p of parts) {
    const r = checkPartition(model, p.ops, deadline);
    partitions.push({ key: p.key, ops: p.ops.length, ...r });
  }
  const verdict: Verdict = partitions.some((p) => p.verdict === 'illegal') ? 'illegal' : partitions.some((p) => p.verdict === 'unknown') ? 'unknown' : 'ok';
  return { verdict, partitions, elapsedMs: Date.now() - start };
}
