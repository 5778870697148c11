// How a znode's record is laid out in LMDB: a fixed binary header, then owner, ACL and data. It replaced lmdb-js's
// default msgpack, which (without a shared-structures key) writes each value's record definition inline, so every
// read re-declared the record's 14 keys: about a tenth of a getData's CPU (bench/RESULTS.md). Values written by
// earlier versions start with msgpack's 0xd4 and are still read, through msgpackr; writes always use this layout.
import { Unpackr } from 'msgpackr';
import type { DatabaseOptions } from 'lmdb';
import type { Acl, NodeKind, NodeRecord } from './records.js';

/** First byte of this layout. msgpackr never starts a record value with it (its records start 0xd4 or 0x40–0x7f). */
const TAG = 0x01;
const KINDS: readonly NodeKind[] = ['persistent', 'ephemeral', 'container', 'ttl'];
const KIND_CODE: Record<NodeKind, number> = { persistent: 0, ephemeral: 1, container: 2, ttl: 3 };
/** tag u8, kind u8, acl count u16, then 10 float64 numbers, then the data length u32. */
const NUMBERS_AT = 4;
const DATA_LEN_AT = NUMBERS_AT + 10 * 8;
const HEADER = DATA_LEN_AT + 4;

const legacy = new Unpackr({ copyBuffers: true, mapsAsObjects: true });

function utf8Len(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function encodeNode(n: NodeRecord): Buffer {
  let size = HEADER + 2 + utf8Len(n.owner) + n.data.byteLength;
  for (const a of n.acl) size += 1 + 2 + utf8Len(a.scheme) + 2 + utf8Len(a.id);
  const b = Buffer.allocUnsafe(size);
  b[0] = TAG;
  b[1] = KIND_CODE[n.kind];
  b.writeUInt16LE(n.acl.length, 2);
  // Field by field (not a loop over an array of them): this runs for every znode write.
  b.writeDoubleLE(n.czxid, NUMBERS_AT);
  b.writeDoubleLE(n.mzxid, NUMBERS_AT + 8);
  b.writeDoubleLE(n.pzxid, NUMBERS_AT + 16);
  b.writeDoubleLE(n.ctime, NUMBERS_AT + 24);
  b.writeDoubleLE(n.mtime, NUMBERS_AT + 32);
  b.writeDoubleLE(n.version, NUMBERS_AT + 40);
  b.writeDoubleLE(n.cversion, NUMBERS_AT + 48);
  b.writeDoubleLE(n.aversion, NUMBERS_AT + 56);
  b.writeDoubleLE(n.numChildren, NUMBERS_AT + 64);
  b.writeDoubleLE(n.ttlMs, NUMBERS_AT + 72);
  b.writeUInt32LE(n.data.byteLength, DATA_LEN_AT);
  let o = HEADER;
  o = putString(b, o, n.owner);
  for (const a of n.acl) {
    b[o++] = a.perms;
    o = putString(b, o, a.scheme);
    o = putString(b, o, a.id);
  }
  b.set(n.data, o);
  return b;
}

function putString(b: Buffer, o: number, s: string): number {
  const len = b.write(s, o + 2, 'utf8');
  b.writeUInt16LE(len, o);
  return o + 2 + len;
}

export function decodeNode(bytes: Uint8Array): NodeRecord {
  if (bytes[0] !== TAG) return legacy.unpack(bytes) as NodeRecord;
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = KINDS[b[1] as number];
  if (kind === undefined) throw new Error(`znode record of unknown kind ${b[1]}`);
  const aclCount = b.readUInt16LE(2);
  const num = (i: number) => b.readDoubleLE(NUMBERS_AT + i * 8);
  const dataLen = b.readUInt32LE(DATA_LEN_AT);
  let o = HEADER;
  const str = (): string => {
    const len = b.readUInt16LE(o);
    const s = b.toString('utf8', o + 2, o + 2 + len);
    o += 2 + len;
    return s;
  };
  const owner = str();
  const acl: Acl[] = [];
  for (let i = 0; i < aclCount; i++) {
    const perms = b[o++] as number;
    const scheme = str();
    acl.push({ scheme, id: str(), perms });
  }
  if (o + dataLen !== b.length) throw new Error(`znode record of ${b.length} bytes does not match its header`);
  return {
    // A copy: lmdb-js reuses the buffer it reads into.
    data: Buffer.from(b.subarray(o, o + dataLen)),
    czxid: num(0),
    mzxid: num(1),
    pzxid: num(2),
    ctime: num(3),
    mtime: num(4),
    version: num(5),
    cversion: num(6),
    aversion: num(7),
    owner,
    kind,
    ttlMs: num(9),
    numChildren: num(8),
    acl,
  };
}

/**
 * How the `nodes` database is opened everywhere (the store, snapshot inspection and install). lmdb-js's `encoder`
 * option is documented but missing from its typings; it calls decode with its reused read buffer.
 */
export const NODES_DB_OPTIONS: DatabaseOptions = Object.assign({ keyEncoding: 'binary' as const }, { encoder: { encode: encodeNode, decode: decodeNode } });
