// Which mutation fires which event for every watch kind (ZooKeeper's DataTree table, API.md §5): single ops,
// setACL (nothing), multi (each op's triggers; none for a failed multi), recursive delete, session close,
// container and TTL sweeps; one-shot kinds are spent when they fire, persistent ones stay.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { WatchClient, http } from './client.js';

const s = await startTestServer({ containerCheckIntervalMs: 50 });
t.teardown(() => s.destroy());
const base = s.url;
const z = (p: string) => '/v1/znodes' + p;
const create = (p: string, data = '', q = '') => http(base, 'POST', z(p) + q, data);
const set = (p: string, data: string) => http(base, 'PUT', z(p), data);
const del = (p: string, q = '') => http(base, 'DELETE', z(p) + q);
const setAcl = (p: string) =>
  http(base, 'PUT', '/v1/acl' + p, JSON.stringify({ acl: [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }] }), { 'content-type': 'application/json' });

type Mutation = 'create' | 'set' | 'delete' | 'setAcl' | 'createChild' | 'deleteChild' | 'setChild';
const MUTATIONS: Mutation[] = ['create', 'set', 'delete', 'setAcl', 'createChild', 'deleteChild', 'setChild'];

/** Events each kind gets for each mutation of node N (child C = N/c), as ZooKeeper fires them. */
const TABLE: Record<string, Partial<Record<Mutation, string[]>>> = {
  data: { set: ['NodeDataChanged N'], delete: ['NodeDeleted N'] },
  exists: { create: ['NodeCreated N'], set: ['NodeDataChanged N'], delete: ['NodeDeleted N'] },
  children: { delete: ['NodeDeleted N'], createChild: ['NodeChildrenChanged N'], deleteChild: ['NodeChildrenChanged N'] },
  persistent: {
    create: ['NodeCreated N'],
    set: ['NodeDataChanged N'],
    delete: ['NodeDeleted N'],
    createChild: ['NodeChildrenChanged N'],
    deleteChild: ['NodeChildrenChanged N'],
  },
  persistentRecursive: {
    create: ['NodeCreated N'],
    set: ['NodeDataChanged N'],
    delete: ['NodeDeleted N'],
    createChild: ['NodeCreated N/c'],
    deleteChild: ['NodeDeleted N/c'],
    setChild: ['NodeDataChanged N/c'],
  },
};
const ONE_SHOT = new Set(['data', 'exists', 'children']);

let n = 0;
for (const kind of Object.keys(TABLE)) {
  for (const m of MUTATIONS) {
    const expected = TABLE[kind]?.[m] ?? [];
    t.test(`${kind} watch, ${m}: ${expected.length ? expected.join(', ') : 'no event'}`, async (t) => {
      const N = `/k${n++}`;
      // The state before the mutation: N exists (with child c for deleteChild/setChild) except for create.
      if (m !== 'create') await create(N, 'v0');
      if (m === 'deleteChild' || m === 'setChild') await create(N + '/c');
      if ((kind === 'data' || kind === 'children') && m === 'create') {
        const c = await WatchClient.open(base);
        const r = await c.watch(N, kind);
        t.match(r, { ok: false, error: 'NoNode', code: -101 }, 'a data or children watch on a missing node is NoNode, as getData/getChildren');
        await c.close();
        return;
      }
      const c = await WatchClient.open(base);
      t.teardown(() => c.close());
      t.match(await c.watch(N, kind), { ok: true });
      const mutate = async () => {
        switch (m) {
          case 'create':
            return create(N, 'v');
          case 'set':
            return set(N, 'v1');
          case 'delete':
            return del(N);
          case 'setAcl':
            return setAcl(N);
          case 'createChild':
            return create(N + '/c');
          case 'deleteChild':
            return del(N + '/c');
          case 'setChild':
            return set(N + '/c', 'x');
        }
      };
      const r = await mutate();
      t.ok(r.status < 300, `mutation answered ${r.status}`);
      await c.sync();
      t.same(c.eventList(), expected.map((e) => e.replace(/\bN\b/g, N)));
      const zxids = c.events().map((e) => e.zxid);
      if (zxids.length > 0) t.equal(zxids[0], r.headers.get('zk-zxid'), 'the event carries the zxid of the write that caused it');
      // A second mutation of the same kind: one-shot watches are spent, persistent ones fire again.
      if (expected.length > 0 && (m === 'set' || m === 'setChild')) {
        await (m === 'set' ? set(N, 'v2') : set(N + '/c', 'y'));
        await c.sync();
        t.equal(c.events().length, ONE_SHOT.has(kind) ? 1 : 2, ONE_SHOT.has(kind) ? 'one-shot watch fired once' : 'persistent watch fired again');
      }
    });
  }
}

t.test('one connection gets one NodeDeleted for data + children + persistent watches on the same node', async (t) => {
  await create('/dd', 'x');
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  for (const k of ['data', 'children', 'persistent', 'exists']) t.match(await c.watch('/dd', k), { ok: true });
  await del('/dd');
  await c.sync();
  t.same(c.eventList(), ['NodeDeleted /dd']);
});

t.test('a multi that deletes and recreates a path spends a one-shot watch on the first of its events, as ZooKeeper', async (t) => {
  await create('/m1');
  await create('/m1/q', 'old');
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  t.match(await c.watch('/m1/p', 'exists'), { ok: true, stat: null });
  t.match(await c.watch('/m1/q', 'data'), { ok: true });
  const p = await WatchClient.open(base);
  t.teardown(() => p.close());
  await p.watch('/m1', 'persistentRecursive');
  const ops = (o: unknown[]) => http(base, 'POST', '/v1/multi', JSON.stringify({ ops: o }), { 'content-type': 'application/json' });
  t.equal(
    (await ops([
      { op: 'create', path: '/m1/p' },
      { op: 'delete', path: '/m1/p' },
      { op: 'create', path: '/m1/p' },
      { op: 'delete', path: '/m1/q' },
      { op: 'create', path: '/m1/q', data: 'new' },
    ])).status,
    200,
  );
  await c.sync();
  await p.sync();
  t.same(c.eventList(), ['NodeCreated /m1/p', 'NodeDeleted /m1/q'], "the exists watch gets NodeCreated and the data watch NodeDeleted: each op's first event");
  t.same(p.eventList(), ['NodeDeleted /m1/p', 'NodeCreated /m1/p', 'NodeDeleted /m1/q', 'NodeCreated /m1/q'], 'a persistent watch ends on the state the multi leaves');
  const wchc = (await http(base, 'GET', '/v1/admin/wchs')).body as { numTotalWatches?: number };
  t.equal(wchc.numTotalWatches, 1, 'both one-shot watches are spent; the persistent one stays');
});

t.test('multi fires each op\'s triggers in op order at one zxid, each (path, event) once at its last place; a failed multi fires nothing', async (t) => {
  await create('/mu');
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  await c.watch('/mu', 'persistentRecursive');
  await c.watch('/mu', 'persistent');
  const ops = (o: unknown[]) => http(base, 'POST', '/v1/multi', JSON.stringify({ ops: o }), { 'content-type': 'application/json' });
  const ok = await ops([
    { op: 'create', path: '/mu/a', data: '1' },
    { op: 'set', path: '/mu/a', data: '2' },
    { op: 'set', path: '/mu', data: 'p' },
    { op: 'delete', path: '/mu/a' },
  ]);
  t.equal(ok.status, 200);
  await c.sync();
  // /mu's children change twice in the multi, but at one zxid: one event, where it last happened.
  t.same(c.eventList(), ['NodeCreated /mu/a', 'NodeDataChanged /mu/a', 'NodeDataChanged /mu', 'NodeDeleted /mu/a', 'NodeChildrenChanged /mu']);
  t.equal(new Set(c.events().map((e) => e.zxid)).size, 1, 'one zxid for the whole multi');
  const replay = await WatchClient.open(base);
  t.teardown(() => replay.close());
  await replay.watch('/mu', 'persistent', { sinceZxid: String(Number(c.events()[0]?.zxid) - 1) });
  t.same(replay.eventList(), ['NodeDataChanged /mu', 'NodeChildrenChanged /mu'], 'resumed, the multi replays the same way');
  const bad = await ops([
    { op: 'create', path: '/mu/b' },
    { op: 'check', path: '/mu', version: 99 },
  ]);
  t.equal(bad.status, 412);
  await c.sync();
  t.equal(c.events().length, 5, 'no event from the failed multi');
  // Create, delete, create of one node: its last event is the create, as the state the multi leaves.
  const again = await ops([
    { op: 'create', path: '/mu/x' },
    { op: 'delete', path: '/mu/x' },
    { op: 'create', path: '/mu/x' },
  ]);
  t.equal(again.status, 200);
  await c.sync();
  const forX = c.eventList().slice(5).filter((e) => e.endsWith(' /mu/x'));
  t.same(forX, ['NodeDeleted /mu/x', 'NodeCreated /mu/x'], "the node's last event agrees with the state the multi left");
});

t.test('recursive delete fires deepest first, and the watches below it', async (t) => {
  await create('/rd/a/b', '', '?parents');
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  await c.watch('/rd', 'persistentRecursive');
  const d = await WatchClient.open(base);
  t.teardown(() => d.close());
  await d.watch('/rd/a', 'children');
  await d.watch('/rd/a/b', 'data');
  await d.watch('/', 'children');
  t.equal((await del('/rd', '?recursive')).status, 204);
  await c.sync();
  await d.sync();
  t.same(c.eventList(), ['NodeDeleted /rd/a/b', 'NodeDeleted /rd/a', 'NodeDeleted /rd']);
  t.same(d.eventList(), ['NodeDeleted /rd/a/b', 'NodeChildrenChanged /rd/a', 'NodeChildrenChanged /']);
});

t.test('closing a session deletes its ephemerals and fires their watches', async (t) => {
  await create('/eph');
  const sess = (await http(base, 'POST', '/v1/sessions', JSON.stringify({ timeoutMs: 10000 }), { 'content-type': 'application/json' })).body;
  const sid = String(sess.sessionId);
  await http(base, 'POST', z('/eph/e') + '?ephemeral', '', { 'zk-session': sid });
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  await c.watch('/eph/e', 'exists');
  await c.watch('/eph', 'children');
  t.equal((await http(base, 'DELETE', '/v1/sessions/' + sid)).status, 204);
  await c.sync();
  t.same(c.eventList(), ['NodeDeleted /eph/e', 'NodeChildrenChanged /eph']);
});

t.test('the container sweep and the TTL sweep fire NodeDeleted', async (t) => {
  await create('/ct', '', '?container');
  await create('/ct/x');
  // Long enough for the exists watch to be armed before the node can expire (with 1 ms the 50 ms sweep could take
  // the node before the watch was set, and the watch then waits for a create that never comes: seen once in CI).
  await create('/ttl', '', '?ttl=1500');
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  await c.watch('/ct', 'data');
  await c.watch('/ttl', 'exists');
  t.equal((await http(base, 'GET', z('/ttl'))).status, 200, 'the TTL node still exists once its watch is armed');
  await del('/ct/x');
  t.ok(await c.until(() => c.eventList().includes('NodeDeleted /ct') && c.eventList().includes('NodeDeleted /ttl')), 'both swept');
  t.same(c.eventList().sort(), ['NodeDeleted /ct', 'NodeDeleted /ttl']);
});

t.test('an event on a long path (a frame with a 16-bit length) arrives intact, in order with replies', async (t) => {
  const long = '/' + 'l'.repeat(300);
  await create(long, 'x');
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  t.match(await c.watch(long, 'persistent'), { ok: true });
  await set(long, 'y');
  await set(long, 'z');
  await c.sync();
  t.same(c.eventList(), [`NodeDataChanged ${long}`, `NodeDataChanged ${long}`]);
});
