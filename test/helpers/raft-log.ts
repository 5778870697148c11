// What the consensus log's tests share: entries with recognisable bytes, a comparable form of them, and the
// operations their property tests draw (appends that may overwrite a suffix, compactions, resets to a snapshot).
import fc from 'fast-check';
import type { Entry } from '../../server/quorum/core/index.js';

export function entry(index: number, term: number, size: number): Entry {
  const data = new Uint8Array(size);
  data.fill((index * 31 + term) & 0xff);
  if (size >= 8) new DataView(data.buffer).setFloat64(0, index);
  return { index, term, type: 'normal', data };
}

export const plain = (es: Entry[]) => es.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Buffer.from(e.data).toString('hex') }));

/** Appends (`back` entries overwritten), compactions (`back` entries kept) and resets (`ahead` of the last index). */
export const logOps = {
  append: fc.record({ k: fc.constant('append' as const), back: fc.nat(6), count: fc.integer({ min: 1, max: 40 }), size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constant(300 * 1024)) }),
  compact: fc.record({ k: fc.constant('compact' as const), back: fc.nat(30) }),
  reset: fc.record({ k: fc.constant('reset' as const), ahead: fc.integer({ min: -20, max: 50 }) }),
};

type Op<K extends keyof typeof logOps> = (typeof logOps)[K] extends fc.Arbitrary<infer T> ? T : never;

/**
 * What the log should hold after the property tests' operations: the retained entries by index, the compaction point
 * and the term of the latest append. Each method takes an operation and the log's last index before it.
 */
export class LogModel {
  readonly entries = new Map<number, Entry>();
  snap = 0;
  term = 1;

  /** The entries the append writes (a new term, overwriting `back` entries); the model then holds them. */
  append(o: Op<'append'>, last: number): Entry[] {
    const first = Math.max(this.snap + 1, last + 1 - o.back);
    this.term++;
    const es = Array.from({ length: o.count }, (_x, i) => entry(first + i, this.term, o.size));
    for (let i = first; i <= last; i++) this.entries.delete(i);
    for (const e of es) this.entries.set(e.index, e);
    return es;
  }

  /** Where the compaction goes, or undefined when it would drop nothing; the model then holds what is kept. */
  compact(o: Op<'compact'>, last: number): number | undefined {
    const upTo = Math.max(this.snap, last - o.back);
    if (upTo <= this.snap) return undefined;
    for (let i = this.snap + 1; i <= upTo; i++) this.entries.delete(i);
    this.snap = upTo;
    return upTo;
  }

  /** Where the reset puts the log: past it, or inside it (a follower whose log conflicts with the leader's). */
  reset(o: Op<'reset'>, last: number): number {
    this.snap = Math.max(this.snap + 1, last + o.ahead);
    this.entries.clear();
    return this.snap;
  }

  /** The entries from `lo` to the end, as the model has them. */
  from(lo: number, last: number): Entry[] {
    return Array.from({ length: last + 1 - lo }, (_x, i) => this.entries.get(lo + i) as Entry);
  }
}
