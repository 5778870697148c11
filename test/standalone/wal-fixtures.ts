// The standalone write-ahead log tests' shared setup: a temporary log dir, records with their values, what
// recordsAfter yields, and the segment files as they lie on disk (read and patched directly, not through the log).
import type { Test } from 'tap';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Wal, WalRecord } from '../../storage/wal.js';
import { tempDir } from '../helpers/server.js';

export interface Val {
  n: number;
  s: string;
  bytes?: Uint8Array;
  pad?: string;
}

export function dir(t: Test): string {
  const d = tempDir('zkgate-wal-');
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export function rec(zxid: number, extra: Partial<Val> = {}): WalRecord<Val> {
  return { zxid, value: { n: zxid, s: `v${zxid}`, ...extra } };
}

export function range(from: number, to: number, extra: (z: number) => Partial<Val> = () => ({})): WalRecord<Val>[] {
  const out: WalRecord<Val>[] = [];
  for (let z = from; z <= to; z++) out.push(rec(z, extra(z)));
  return out;
}

/** Every record recordsAfter yields, flattened, with the chunk sizes it used. */
export function all<T>(w: Wal<T>, after = 0, chunk?: number): { records: WalRecord<T>[]; chunks: number[] } {
  const records: WalRecord<T>[] = [];
  const chunks: number[] = [];
  for (const c of w.recordsAfter(after, chunk)) {
    chunks.push(c.length);
    records.push(...c);
  }
  return { records, chunks };
}

export function zxids<T>(rs: WalRecord<T>[]): number[] {
  return rs.map((r) => r.zxid);
}

export function seq(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export function segFiles(d: string): string[] {
  return readdirSync(d)
    .filter((n) => n.endsWith('.wal'))
    .sort();
}

/**
 * The records of a segment file as the format describes them, parsed here independently of storage/wal-segment.ts:
 * [u32 len][u32 crc32 of bytes 8..end][f64 zxid][payload]. Stops at a zero length (preallocated space).
 */
export function parseSegment(file: string): { zxid: number; offset: number; size: number; crcOk: boolean }[] {
  const buf = readFileSync(file);
  const out: { zxid: number; offset: number; size: number; crcOk: boolean }[] = [];
  let pos = 0;
  while (pos + 16 <= buf.length) {
    const len = buf.readUInt32LE(pos);
    if (len === 0 || pos + 16 + len > buf.length) break;
    out.push({ zxid: buf.readDoubleLE(pos + 8), offset: pos, size: 16 + len, crcOk: crc32(buf.subarray(pos + 8, pos + 16 + len)) === buf.readUInt32LE(pos + 4) });
    pos += 16 + len;
  }
  return out;
}

export function onlySegment(t: Test, d: string): string {
  const files = segFiles(d);
  t.equal(files.length, 1, 'one segment file');
  return join(d, files[0] as string);
}

/** Whether the file holds nothing but zeros (or nothing) from `offset` on: no stale byte past the log's end. */
export function onlyZerosFrom(file: string, offset: number): boolean {
  return readFileSync(file).subarray(offset).every((b) => b === 0);
}

export function patch(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}
