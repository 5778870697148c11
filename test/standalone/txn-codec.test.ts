// The transaction codec of the write-ahead log and the consensus log (storage/txn-codec.ts): a set or create in
// its binary layout, everything else (and anything the layout has no field for) in msgpack, and both decode to
// the transaction that was encoded, key order included. Logs written before the layout existed still decode.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { decodeTxn, encodeTxn } from '../../storage/txn-codec.js';
import { encodeValue } from '../../storage/codec.js';
import type { Txn } from '../../server/tree/types.js';

const str = fc.string({ unit: 'binary', maxLength: 40 });
const auth = fc.array(fc.record({ scheme: fc.constantFrom<'ip' | 'digest' | 'super'>('ip', 'digest', 'super'), id: str }), { maxLength: 3 });
const acl = fc.array(fc.record({ scheme: str, id: str, perms: fc.integer({ min: 0, max: 31 }) }), { maxLength: 4 });
const data = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));
const time = fc.oneof(fc.integer({ min: 0, max: 2 ** 50 }), fc.double({ noNaN: true }));

const setTxn = fc.record({ path: str, data, version: fc.integer({ min: -1, max: 2 ** 31 - 1 }), time, auth, session: str }).map(
  (r): Txn => ({ type: 'set', path: r.path, data: r.data, version: r.version, time: r.time, auth: r.auth, session: r.session }),
);
const createTxn = fc
  .record({
    path: str,
    data,
    acl,
    mode: fc.constantFrom('PERSISTENT', 'EPHEMERAL', 'PERSISTENT_SEQUENTIAL', 'EPHEMERAL_SEQUENTIAL', 'CONTAINER', 'PERSISTENT_WITH_TTL', 'PERSISTENT_SEQUENTIAL_WITH_TTL'),
    ttlMs: fc.integer({ min: 0, max: 2 ** 40 }),
    parents: fc.boolean(),
    time,
    auth,
    session: str,
  })
  .map((r): Txn => ({ type: 'create', path: r.path, data: r.data, acl: r.acl, mode: r.mode as 'PERSISTENT', ttlMs: r.ttlMs, parents: r.parents, time: r.time, auth: r.auth, session: r.session }));

/** Deep equality that also holds the order of every object's keys. */
function sameWithOrder(t: Test, got: unknown, want: unknown, msg: string): void {
  t.same(got, want, msg);
  const keys = (v: unknown): unknown =>
    v === null || typeof v !== 'object' || Buffer.isBuffer(v) || v instanceof Uint8Array
      ? null
      : Array.isArray(v)
        ? v.map(keys)
        : Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, keys(x)]);
  t.same(keys(got), keys(want), `${msg}: key order`);
}

t.test('sets and creates round-trip through the binary layout', async (t) => {
  fc.assert(
    fc.property(fc.oneof(setTxn, createTxn), (txn) => {
      const bytes = encodeTxn(txn);
      if (bytes[0] !== 0xc1) return false;
      const back = decodeTxn(bytes);
      return JSON.stringify(back, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)) ===
        JSON.stringify(txn, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));
    }),
    { numRuns: 500 },
  );
  const one: Txn = { type: 'create', path: '/a/ünï ✓', data: Buffer.from([0, 255, 1]), acl: [{ scheme: 'world', id: 'anyone', perms: 31 }], mode: 'PERSISTENT', ttlMs: 0, parents: true, time: 1764169200123, auth: [{ scheme: 'ip', id: '127.0.0.1' }], session: '0x1a' };
  sameWithOrder(t, decodeTxn(encodeTxn(one)), one, 'a create');
  const set: Txn = { type: 'set', path: '/a', data: Buffer.alloc(0), version: -1, time: 5, auth: [], session: '' };
  sameWithOrder(t, decodeTxn(encodeTxn(set)), set, 'an empty set');
  const decoded = decodeTxn(encodeTxn(set));
  t.ok(decoded.type === 'set' && Buffer.isBuffer(decoded.data), 'data comes back as bytes');
});

t.test('other transactions, and sets or creates with a field the layout lacks, stay msgpack', async (t) => {
  const others: Txn[] = [
    { type: 'delete', path: '/x', version: 3, recursive: false, time: 1, auth: [], session: '' },
    { type: 'multi', ops: [{ type: 'set', path: '/x', data: Buffer.from('v'), version: -1 }], time: 2, auth: [{ scheme: 'digest', id: 'u:x' }], session: '0x2' },
    { type: 'createSession', sessionId: '0x5', timeoutMs: 30000, time: 3 },
    { type: 'closeSession', sessionId: '0x5', reason: 'expired' },
    { type: 'reap', path: '/c', time: 4, maxNeverUsedMs: 0 },
    Object.assign({ type: 'set', path: '/x', data: Buffer.from('v'), version: 1, time: 1, auth: [], session: '' } as Txn, { extra: 'kept' }),
  ];
  for (const txn of others) {
    const bytes = encodeTxn(txn);
    t.not(bytes[0], 0xc1, `${txn.type}: not the binary layout`);
    t.same(decodeTxn(bytes), txn, `${txn.type}: round trip`);
  }
  // The layout decodes in one fixed key order; a set built in another keeps its own through msgpack.
  const reordered = { path: '/x', type: 'set', data: Buffer.from('v'), version: 1, time: 1, auth: [], session: '' } as Txn;
  t.not(encodeTxn(reordered)[0], 0xc1, 'a set with its keys in another order: not the binary layout');
  sameWithOrder(t, decodeTxn(encodeTxn(reordered)), reordered, 'a set with its keys in another order');
});

t.test('a log written before the binary layout (msgpack sets and creates) still decodes', async (t) => {
  const set: Txn = { type: 'set', path: '/old', data: Buffer.from('v'), version: 2, time: 9, auth: [{ scheme: 'ip', id: '::1' }], session: '' };
  const got = decodeTxn(encodeValue(set));
  t.same(got, set);
});

t.test('a cut-short or unknown record is an error, not a wrong transaction', async (t) => {
  const bytes = encodeTxn({ type: 'create', path: '/p', data: Buffer.from('data'), acl: [], mode: 'PERSISTENT', ttlMs: 0, parents: false, time: 1, auth: [], session: '' });
  for (const cut of [5, 12, 20, bytes.length - 12, bytes.length - 1]) t.throws(() => decodeTxn(bytes.subarray(0, cut)), `cut at ${cut}`);
  t.throws(() => decodeTxn(Buffer.concat([bytes, Buffer.from([0])])), 'a byte too many');
  const bad = Buffer.from(bytes);
  bad[1] = 9;
  t.throws(() => decodeTxn(bad), /unknown kind/);
});
