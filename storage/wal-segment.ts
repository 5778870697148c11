// A write-ahead log segment on disk: its file name, the format of its records, the scan that finds where its valid
// records end, and the fs calls that write and flush it. Which records go to which segment is storage/wal.ts's call.
//
// Record: [u32 length][u32 crc32 of the rest][f64 zxid][payload: the value in the log's codec, a transaction (storage/txn-codec.ts) unless told otherwise]. A segment is named by the zxid
// of its first record and holds consecutive zxids; reading stops at the first record that is short, fails its
// checksum or breaks the sequence: the torn tail of a write that was never acknowledged.
import { close, closeSync, constants, fstatSync, fsync, fsyncSync, openSync, readSync, write } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { WalCodec } from './wal.js';

const HEADER = 16;
export const NAME = /^(\d{20})\.wal$/;

export function segmentName(first: number): string {
  return `${String(first).padStart(20, '0')}.wal`;
}

export function encodeRecord<T>(zxid: number, value: T, codec: WalCodec<T>): Buffer {
  const payload = codec.encode(value);
  const buf = Buffer.allocUnsafe(HEADER + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeDoubleLE(zxid, 8);
  buf.set(payload, HEADER);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

/** Bytes read from a segment at a time when it is scanned: a segment is never held whole in memory. */
const READ_CHUNK = 1 << 20;

/**
 * Walks the valid records of segment `file` from byte `offset`, where record `zxid` starts, up to byte `limit`: calls
 * `each` with each record's zxid, payload and offset, and returns where the valid records end. Reads READ_CHUNK bytes
 * at a time (a longer record in one read of its own); each read fills a new buffer, so a payload stays valid after.
 */
export function walkFile(file: string, zxid: number, offset: number, limit: number, each: (zxid: number, payload: Buffer, at: number) => void): number {
  const fd = openSync(file, 'r');
  try {
    const size = Math.min(fstatSync(fd).size, limit);
    let buf = Buffer.alloc(0);
    let base = offset;
    let pos = offset;
    /** Makes bytes [pos, pos + need) of the file available in buf; false when the file ends first. */
    const load = (need: number): boolean => {
      if (pos + need > size) return false;
      if (pos + need <= base + buf.length) return true;
      const want = Math.min(size - pos, Math.max(need, READ_CHUNK));
      const next = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, next, got, want - got, pos + got);
        if (n === 0) break;
        got += n;
      }
      buf = next.subarray(0, got);
      base = pos;
      return got >= need;
    };
    for (let expect = zxid; load(HEADER); expect++) {
      const len = buf.readUInt32LE(pos - base);
      if (len === 0 || !load(HEADER + len)) break;
      const rec = buf.subarray(pos - base, pos - base + HEADER + len);
      if (crc32(rec.subarray(8)) !== rec.readUInt32LE(4) || rec.readDoubleLE(8) !== expect) break;
      each(expect, rec.subarray(HEADER), pos);
      pos += HEADER + len;
    }
    return pos;
  } finally {
    closeSync(fd);
  }
}

/** Zeros to compare the space after the records with, a block at a time. */
const ZERO_BLOCK = Buffer.alloc(64 * 1024);
/** How far past the end of the valid records the scan for a whole later record looks (one batch at most is torn). */
const DAMAGE_SCAN_BYTES = 64 << 20;

/**
 * A whole record with a zxid after `afterZxid` that starts past `end`, the end of the valid records: found by the bad
 * record's length first, else by a scan of the bytes after it. A torn write is the log's last; whole records after it
 * mean the bad one was damaged after it was written (acknowledged, since one group write is in flight at a time) or
 * the damage is inside one torn group: either way not a tail that can be cut without a word.
 */
export function wholeRecordAfter(file: string, end: number, afterZxid: number): { offset: number; zxid: number } | undefined {
  const fd = openSync(file, 'r');
  try {
    const size = Math.min(fstatSync(fd).size, end + DAMAGE_SCAN_BYTES);
    if (size <= end + HEADER) return undefined;
    const buf = Buffer.allocUnsafe(size - end);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, end + got);
      if (n === 0) break;
      got += n;
    }
    const bytes = buf.subarray(0, got);
    const wholeAt = (at: number): number | undefined => {
      if (at < 0 || at + HEADER > bytes.length) return undefined;
      const len = bytes.readUInt32LE(at);
      if (len === 0 || at + HEADER + len > bytes.length) return undefined;
      const zxid = bytes.readDoubleLE(at + 8);
      if (!Number.isSafeInteger(zxid) || zxid <= afterZxid) return undefined;
      return crc32(bytes.subarray(at + 8, at + HEADER + len)) === bytes.readUInt32LE(at + 4) ? zxid : undefined;
    };
    const badLen = bytes.readUInt32LE(0);
    const bySkip = badLen > 0 && HEADER + badLen < bytes.length ? wholeAt(HEADER + badLen) : undefined;
    if (bySkip !== undefined) return { offset: end + HEADER + badLen, zxid: bySkip };
    // Most of what follows the records is the zero-filled space ahead (every open meets it): skipped a block at a time.
    for (let block = 0; block < bytes.length; block += ZERO_BLOCK.length) {
      const stop = Math.min(bytes.length, block + ZERO_BLOCK.length);
      if (bytes.compare(ZERO_BLOCK, 0, stop - block, block, stop) === 0) continue;
      for (let at = Math.max(1, block); at < stop && at + HEADER <= bytes.length; at++) {
        if (bytes[at] === 0 && bytes.readUInt32LE(at) === 0) continue;
        const zxid = wholeAt(at);
        if (zxid !== undefined) return { offset: end + at, zxid };
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

// Callback fs calls wrapped by hand: they run on libuv's pool like fs/promises, without a FileHandle.
export function writeAt(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, off, len, pos, (e, n) => (e ? reject(e) : resolve(n))));
}

export function syncAll(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

/**
 * Appends go through a descriptor opened O_DSYNC: each write returns once its data is on disk, as write then
 * fdatasync would, in one trip to libuv's pool instead of two. Each trip ends with a wait for the event loop,
 * which under load is busy answering reads and the previous group, and the next group cannot start before it.
 */
export function openForAppend(file: string): number {
  return openSync(file, constants.O_RDWR | constants.O_DSYNC);
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (e) => (e ? reject(e) : resolve())));
}

/** fsync of a directory (a new file's entry) or of a file opened only for it. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
