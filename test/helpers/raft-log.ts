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
