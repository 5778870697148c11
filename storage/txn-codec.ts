// How a transaction is written to the write-ahead log and to the consensus log. The two commonest, a plain set and
// a create, have a fixed binary layout: msgpack spent more CPU encoding them than the rest of their trip through
// the log did (bench/RESULTS.md). Every other transaction, and a set or create carrying something this layout has
// no field for, is plain msgpack (storage/codec.ts), as every transaction was before; both decode here.
//
// Layout: tag 0xc1 (a byte msgpack never writes), kind u8 (1 set, 2 create), time f64, path, session, auth count
// u16 and each auth's scheme and id, data (u32 length + bytes); then a set's version f64, or a create's ACL count
// u16 and each entry's perms u16, scheme and id, then mode, ttlMs f64 and parents u8. Strings are u32 length + UTF-8.
import type { Acl, AuthId } from './records.js';
import type { CreateMode, Txn } from '../server/tree/types.js';
import { decodeValue, encodeValue } from './codec.js';

const TAG = 0xc1;
const SET = 1;
const CREATE = 2;

type SetTxn = Extract<Txn, { type: 'set' }>;
type CreateTxn = Extract<Txn, { type: 'create' }>;

const SET_KEYS = ['type', 'path', 'data', 'version', 'time', 'auth', 'session'];
const CREATE_KEYS = ['type', 'path', 'data', 'acl', 'mode', 'ttlMs', 'parents', 'time', 'auth', 'session'];

/** The object's own keys are exactly `keys`, in that order (checked without building a key list: once per write). */
function hasKeys(o: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in o) {
    if (!Object.hasOwn(o, k) || keys[i] !== k) return false;
    i++;
  }
  return i === keys.length;
}

/** Only transactions whose every field the layout carries take it, so decoding gives back the same object. */
function fits(txn: Txn): txn is SetTxn | CreateTxn {
  if (typeof txn !== 'object' || txn === null) return false;
  if (txn.type !== 'set' && txn.type !== 'create') return false;
  return hasKeys(txn, txn.type === 'set' ? SET_KEYS : CREATE_KEYS) && txn.data instanceof Uint8Array && typeof txn.session === 'string' && Array.isArray(txn.auth);
}

export function encodeTxn(txn: Txn): Buffer {
  if (!fits(txn)) return encodeValue(txn);
  let size = 2 + 8 + strSize(txn.path) + strSize(txn.session) + 2 + 4 + txn.data.byteLength;
  for (const a of txn.auth) size += strSize(a.scheme) + strSize(a.id);
  if (txn.type === 'set') size += 8;
  else {
    size += 2 + strSize(txn.mode) + 8 + 1;
    for (const a of txn.acl) size += 2 + strSize(a.scheme) + strSize(a.id);
  }
  const b = Buffer.allocUnsafe(size);
  b[0] = TAG;
  b[1] = txn.type === 'set' ? SET : CREATE;
  b.writeDoubleLE(txn.time, 2);
  let o = putStr(b, 10, txn.path);
  o = putStr(b, o, txn.session);
  o = b.writeUInt16LE(txn.auth.length, o);
  for (const a of txn.auth) o = putStr(b, putStr(b, o, a.scheme), a.id);
  o = b.writeUInt32LE(txn.data.byteLength, o);
  b.set(txn.data, o);
  o += txn.data.byteLength;
  if (txn.type === 'set') {
    b.writeDoubleLE(txn.version, o);
    return b;
  }
  o = b.writeUInt16LE(txn.acl.length, o);
  for (const a of txn.acl) o = putStr(b, putStr(b, b.writeUInt16LE(a.perms, o), a.scheme), a.id);
  o = putStr(b, o, txn.mode);
  o = b.writeDoubleLE(txn.ttlMs, o);
  b[o] = txn.parents ? 1 : 0;
  return b;
}

export function decodeTxn(bytes: Uint8Array): Txn {
  if (bytes[0] !== TAG) return decodeValue(bytes) as Txn;
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = b[1];
  if (kind !== SET && kind !== CREATE) throw new Error(`transaction of unknown kind ${kind}`);
  let o = 10;
  const str = (): string => {
    const len = b.readUInt32LE(o);
    if (o + 4 + len > b.length) throw new Error('transaction record is cut short');
    const s = b.toString('utf8', o + 4, o + 4 + len);
    o += 4 + len;
    return s;
  };
  const time = b.readDoubleLE(2);
  const path = str();
  const session = str();
  const auth: AuthId[] = [];
  const authCount = b.readUInt16LE(o);
  o += 2;
  for (let i = 0; i < authCount; i++) auth.push({ scheme: str() as AuthId['scheme'], id: str() });
  const dataLen = b.readUInt32LE(o);
  o += 4;
  if (o + dataLen > b.length) throw new Error('transaction record is cut short');
  // A copy: the bytes may be a view of a whole log segment or of a reused read buffer.
  const data = Buffer.from(b.subarray(o, o + dataLen));
  o += dataLen;
  if (kind === SET) {
    if (o + 8 !== b.length) throw new Error('transaction record does not match its layout');
    return { type: 'set', path, data, version: b.readDoubleLE(o), time, auth, session };
  }
  const acl: Acl[] = [];
  const aclCount = b.readUInt16LE(o);
  o += 2;
  for (let i = 0; i < aclCount; i++) {
    const perms = b.readUInt16LE(o);
    o += 2;
    acl.push({ scheme: str(), id: str(), perms });
  }
  const mode = str() as CreateMode;
  if (o + 9 !== b.length) throw new Error('transaction record does not match its layout');
  const ttlMs = b.readDoubleLE(o);
  const parents = b[o + 8] === 1;
  return { type: 'create', path, data, acl, mode, ttlMs, parents, time, auth, session };
}

function strSize(s: string): number {
  return 4 + Buffer.byteLength(s, 'utf8');
}

function putStr(b: Buffer, o: number, s: string): number {
  const len = b.write(s, o + 4, 'utf8');
  b.writeUInt32LE(len, o);
  return o + 4 + len;
}
