// The snapshot file format: the LMDB copy the server streams, then a 64-byte trailer (magic, SHA-256 of the
// copy, its zxid, its length). Restore checks the trailer before LMDB ever opens the bytes: LMDB trusts its
// files, and a damaged one could crash the process instead of failing cleanly.
import { createHash } from 'node:crypto';
import { createReadStream, openSync, readSync, closeSync, fstatSync } from 'node:fs';

const MAGIC = Buffer.from('zkgate-snapshot1', 'ascii');
export const TRAILER_BYTES = 64;

export function trailer(sha256: Buffer, zxid: bigint, length: number): Buffer {
  const b = Buffer.alloc(TRAILER_BYTES);
  MAGIC.copy(b, 0);
  sha256.copy(b, 16);
  b.writeBigUInt64BE(zxid, 48);
  b.writeBigUInt64BE(BigInt(length), 56);
  return b;
}

export interface SnapshotTrailer {
  sha256: Buffer;
  zxid: bigint;
  length: number;
}

/** Reads and checks the trailer and the content's hash; throws with what is wrong. */
export async function verifySnapshotFile(file: string): Promise<SnapshotTrailer> {
  const fd = openSync(file, 'r');
  let t: SnapshotTrailer;
  try {
    const size = fstatSync(fd).size;
    if (size < TRAILER_BYTES) throw new Error('too short to be a snapshot');
    const b = Buffer.alloc(TRAILER_BYTES);
    readSync(fd, b, 0, TRAILER_BYTES, size - TRAILER_BYTES);
    if (!b.subarray(0, 16).equals(MAGIC)) throw new Error('no zkgate snapshot trailer');
    t = { sha256: b.subarray(16, 48), zxid: b.readBigUInt64BE(48), length: Number(b.readBigUInt64BE(56)) };
    if (t.length !== size - TRAILER_BYTES) throw new Error(`holds ${size - TRAILER_BYTES} bytes, the trailer says ${t.length}`);
  } finally {
    closeSync(fd);
  }
  const h = createHash('sha256');
  if (t.length > 0) for await (const chunk of createReadStream(file, { start: 0, end: t.length - 1 })) h.update(chunk as Buffer);
  if (!h.digest().equals(t.sha256)) throw new Error('checksum mismatch (the file is damaged)');
  return t;
}
