// The read cache's bounds and the store's invalidation of it: a write drops the path's answer when reads see the
// write, and while an LMDB transaction holding it is uncommitted nothing for that path may be cached.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import { open as openLmdb } from 'lmdb';
import { Store } from '../../storage/store.js';
import { nodeKey } from '../../storage/schema.js';
import { ReadCache, READ_CACHE_MAX_ENTRY_BYTES, type CachedRead } from '../../storage/read-cache.js';
import { decodeNode, encodeNode } from '../../storage/node-codec.js';
import type { NodeRecord } from '../../storage/records.js';
import { OPEN_ACL_UNSAFE } from '../../server/tree/acl.js';
import { tempDir } from '../helpers/server.js';

const answer = (s: string): CachedRead => ({ body: Buffer.from(s), etag: '"0"' });

function record(data: string, extra: Partial<NodeRecord> = {}): NodeRecord {
  return {
    data: Buffer.from(data),
    czxid: 1,
    mzxid: 2,
    pzxid: 3,
    ctime: 1795735641081,
    mtime: 1795735641082,
    version: 4,
    cversion: 5,
    aversion: 6,
    owner: '',
    kind: 'persistent',
    ttlMs: 0,
    numChildren: 7,
    acl: OPEN_ACL_UNSAFE,
    ...extra,
  };
}

function openStore(t: Test, walBacked: boolean): Store {
  const dir = tempDir('zkgate-readcache-');
  const store = Store.open({ dataDir: dir, walBacked });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

t.test('bounded by entries and by bytes, oldest out first; large answers are not kept', async (t) => {
  const c = new ReadCache<CachedRead>(3, 100);
  for (const p of ['/a', '/b', '/c', '/d']) c.set(p, answer(p), 10);
  t.equal(c.size, 3);
  t.equal(c.get('/a'), undefined, 'the oldest went');
  t.ok(c.get('/d'));
  c.set('/big', answer('x'), 95);
  t.ok(c.byteSize <= 100, 'bytes stay within the bound');
  t.ok(c.get('/big'));
  t.equal(c.get('/b'), undefined);
  const wide = new ReadCache<CachedRead>(10, 10 * READ_CACHE_MAX_ENTRY_BYTES);
  wide.set('/huge', answer('x'), READ_CACHE_MAX_ENTRY_BYTES + 1);
  t.equal(wide.get('/huge'), undefined);
});

t.test('under any mix of sets, invalidations and clears, the entry set longest ago is the one that goes', async (t) => {
  // The model: a list in the order entries were last set.
  const op = fc.oneof(
    fc.record({ k: fc.constant('set' as const), p: fc.integer({ min: 0, max: 11 }), bytes: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ k: fc.constant('invalidate' as const), p: fc.integer({ min: 0, max: 11 }) }),
    fc.record({ k: fc.constant('clear' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const c = new ReadCache<CachedRead>(5, 100);
      let model: { p: string; bytes: number }[] = [];
      for (const o of ops) {
        if (o.k === 'clear') {
          c.clear();
          model = [];
          continue;
        }
        const p = `/n${o.p}`;
        model = model.filter((e) => e.p !== p);
        if (o.k === 'invalidate') c.invalidate(p);
        else {
          c.set(p, answer(p), o.bytes);
          const used = () => model.reduce((n, e) => n + e.bytes, 0);
          while (model.length >= 5 || used() + o.bytes > 100) model.shift();
          model.push({ p, bytes: o.bytes });
        }
        for (let i = 0; i < 12; i++) {
          if ((c.get(`/n${i}`) !== undefined) !== model.some((e) => e.p === `/n${i}`)) return false;
        }
        if (c.size !== model.length || c.byteSize !== model.reduce((n, e) => n + e.bytes, 0)) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('the cache held what the model held after every step');
});

t.test('a write on its way keeps its path out until it is visible; suspend keeps everything out', async (t) => {
  const c = new ReadCache<CachedRead>();
  c.set('/p', answer('old'), 3);
  c.writeBegins('/p');
  t.equal(c.get('/p'), undefined, 'dropped when the write is made');
  c.set('/p', answer('old'), 3);
  t.equal(c.get('/p'), undefined, 'an answer read meanwhile (from the old record) is refused');
  c.writeBegins('/p');
  c.writeVisible('/p');
  c.set('/p', answer('old'), 3);
  t.equal(c.get('/p'), undefined, 'still refused while a second write is on its way');
  c.writeVisible('/p');
  c.set('/p', answer('new'), 3);
  t.equal(c.get('/p')?.body.toString(), 'new');
  c.suspend();
  t.equal(c.size, 0);
  c.set('/q', answer('q'), 1);
  t.equal(c.get('/q'), undefined);
  c.resume();
  c.set('/q', answer('q'), 1);
  t.ok(c.get('/q'));
});

t.test('a WAL-backed store drops a path\'s answer when the write is applied', async (t) => {
  const store = openStore(t, true);
  await store.applyPending(1, (v, z) => {
    v.putNode('/n', record('a'));
    z(1);
  });
  store.readCache.set('/n', answer('a'), 1);
  const committed = store.applyPending(1, (v, z) => {
    v.putNode('/n', record('b'));
    z(2);
  });
  t.equal(store.readCache.get('/n'), undefined, 'gone as the write is applied, before LMDB commits it');
  await committed;
  store.readCache.set('/n', answer('b'), 1);
  await store.applyPending(1, (v, z) => {
    v.removeNode('/n');
    z(3);
  });
  t.equal(store.readCache.get('/n'), undefined, 'and on delete');
});

t.test('a store without a WAL refuses answers for a path until its transaction commits', async (t) => {
  const store = openStore(t, false);
  await store.writeDurably((v, z) => {
    v.putNode('/n', record('a'));
    z(1);
  });
  store.readCache.set('/n', answer('a'), 1);
  let during: CachedRead | undefined = answer('unset');
  const done = store.writeDurably((v, z) => {
    v.putNode('/n', record('b'));
    z(2);
    store.readCache.set('/n', answer('a-read-before-commit'), 1);
    during = store.readCache.get('/n');
  });
  await done;
  t.equal(during, undefined, 'nothing cached for the path inside the uncommitted transaction');
  t.equal(store.readCache.get('/n'), undefined);
  t.equal(Buffer.from(store.getNode('/n')?.data ?? []).toString(), 'b');
  store.readCache.set('/n', answer('b'), 1);
  t.equal(store.readCache.get('/n')?.body.toString(), 'b', 'cached again once committed');
});

t.test('znode records round-trip through the binary layout', async (t) => {
  const cases: NodeRecord[] = [
    record(''),
    record('héllo ✓'),
    record('x'.repeat(70000), { kind: 'ttl', ttlMs: 123456 }),
    record('e', { kind: 'ephemeral', owner: '0x1000000abcdef', czxid: 2 ** 40 + 3, version: -1 }),
    record('c', { kind: 'container', acl: [{ scheme: 'digest', id: 'ännä:Zm9vYmFy+/=', perms: 31 }, { scheme: 'ip', id: '10.0.0.0/8', perms: 1 }] }),
  ];
  for (const r of cases) {
    const back = decodeNode(encodeNode(r));
    t.same({ ...back, data: Buffer.from(back.data).toString('hex') }, { ...r, data: Buffer.from(r.data).toString('hex') });
  }
  const bytes = encodeNode(record('abc'));
  t.throws(() => decodeNode(bytes.subarray(0, bytes.length - 1)), /does not match its header/);
});

t.test('records written by earlier versions (lmdb-js msgpack) are still read', async (t) => {
  const dir = tempDir('zkgate-legacy-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = openLmdb({ path: `${dir}/zkgate.mdb`, maxDbs: 16, compression: false });
  const old = env.openDB<NodeRecord, Buffer>('nodes', { keyEncoding: 'binary' });
  const legacy = record('from an older zkgate', { owner: '0x5', kind: 'ephemeral' });
  await old.put(nodeKey('/legacy'), legacy);
  t.equal(old.getBinary(nodeKey('/legacy'))?.[0], 0xd4, 'the old value is msgpack');
  await env.close();
  const store = Store.open({ dataDir: dir, walBacked: true });
  t.teardown(() => store.close());
  const n = store.getNode('/legacy');
  t.equal(Buffer.from(n?.data ?? []).toString(), 'from an older zkgate');
  t.equal(n?.owner, '0x5');
  t.equal(n?.version, 4);
});
