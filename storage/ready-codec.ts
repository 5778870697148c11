// How an ensemble member's consensus write-ahead log records what one Ready asks to make durable: the entries it
// appends (replacing any conflicting suffix), the hard state, and a log restarted at a snapshot. A fixed binary
// layout, as entries already carry their encoded transaction and one record is written per Ready under load.
//
// Layout: flags u8 (1 hard state, 2 reset, 4 history), [hard: term f64, vote f64, commit f64, [history f64]],
// [reset: index f64, term f64],
// count u32, then per entry index f64, term f64, type u8 (0 normal, 1 conf, 2 noop), length u32 and the data.
import { join } from 'node:path';
import type { Entry, EntryType, HardState } from '../server/quorum/core/index.js';

export interface ReadyRecord {
  entries: Entry[];
  hard: HardState | null;
  reset: { index: number; term: number } | null;
}

const HARD = 1;
const RESET = 2;
/** The hard state names a history (core/history.ts). A release before it would misread such a record (operations.md §11). */
const HISTORY = 4;
const KNOWN = HARD | RESET | HISTORY;
const TYPES: readonly EntryType[] = ['normal', 'conf', 'noop'];

export function encodeReady(r: ReadyRecord): Buffer {
  const history = r.hard?.history ?? 0;
  let size = 1 + (r.hard ? 24 : 0) + (history !== 0 ? 8 : 0) + (r.reset ? 16 : 0) + 4;
  for (const e of r.entries) size += 21 + e.data.byteLength;
  const b = Buffer.allocUnsafe(size);
  let o = b.writeUInt8((r.hard ? HARD : 0) | (history !== 0 ? HISTORY : 0) | (r.reset ? RESET : 0), 0);
  if (r.hard) {
    o = b.writeDoubleLE(r.hard.term, o);
    o = b.writeDoubleLE(r.hard.vote, o);
    o = b.writeDoubleLE(r.hard.commit, o);
    if (history !== 0) o = b.writeDoubleLE(history, o);
  }
  if (r.reset) {
    o = b.writeDoubleLE(r.reset.index, o);
    o = b.writeDoubleLE(r.reset.term, o);
  }
  o = b.writeUInt32LE(r.entries.length, o);
  for (const e of r.entries) {
    o = b.writeDoubleLE(e.index, o);
    o = b.writeDoubleLE(e.term, o);
    o = b.writeUInt8(TYPES.indexOf(e.type), o);
    o = b.writeUInt32LE(e.data.byteLength, o);
    b.set(e.data, o);
    o += e.data.byteLength;
  }
  return b;
}

/** The entries' data are views of `b` (a record's own buffer, read from the log for this replay). */
export function decodeReady(b: Buffer): ReadyRecord {
  const flags = b.readUInt8(0);
  if ((flags & ~KNOWN) !== 0 || (flags & HISTORY && !(flags & HARD))) throw new Error(`consensus log record has unknown flags ${flags} (written by a newer release?)`);
  let o = 1;
  let hard: HardState | null = null;
  let reset: ReadyRecord['reset'] = null;
  if (flags & HARD) {
    hard = { term: b.readDoubleLE(o), vote: b.readDoubleLE(o + 8), commit: b.readDoubleLE(o + 16) };
    o += 24;
    if (flags & HISTORY) {
      hard.history = b.readDoubleLE(o);
      o += 8;
    }
  }
  if (flags & RESET) {
    reset = { index: b.readDoubleLE(o), term: b.readDoubleLE(o + 8) };
    o += 16;
  }
  const n = b.readUInt32LE(o);
  o += 4;
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const index = b.readDoubleLE(o);
    const term = b.readDoubleLE(o + 8);
    const type = TYPES[b.readUInt8(o + 16)];
    const len = b.readUInt32LE(o + 17);
    o += 21;
    if (type === undefined || o + len > b.length) throw new Error(`consensus log record is malformed at entry ${index}`);
    entries.push({ index, term, type, data: b.subarray(o, o + len) });
    o += len;
  }
  return { entries, hard, reset };
}

/** Where an ensemble member keeps its consensus write-ahead log. */
export function consensusWalDir(dataDir: string): string {
  return join(dataDir, 'raft-wal');
}

export const READY_CODEC = { encode: encodeReady, decode: decodeReady };
