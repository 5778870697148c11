// Container and TTL reaping (ZOOKEEPER.md §1.4–1.5) on a short containerCheckIntervalMs: what goes and what stays.
import t from 'tap';
import { eventually, serverFor, sleep } from './http.js';
import { findReapable, sweepBudget } from '../../server/sweeper.js';

const { zk } = await serverFor(t, { containerCheckIntervalMs: 100 });
const gone = (p: string, ms: number) => eventually(async () => (await zk.stat(p)).status === 404, ms);

t.test('a container whose last child is deleted is removed by the sweep', async (t) => {
  await zk.create('/sw-cont', '', 'container');
  await zk.create('/sw-cont/a');
  await zk.create('/sw-cont/b');
  await zk.delete('/sw-cont/a');
  await sleep(300);
  t.equal((await zk.stat('/sw-cont')).status, 200, 'kept while a child remains');
  await zk.delete('/sw-cont/b');
  t.ok(await gone('/sw-cont', 3000), 'removed once empty');
});

t.test('a container that never had a child stays', async (t) => {
  await zk.create('/sw-unused', '', 'container');
  await sleep(500);
  t.equal((await zk.stat('/sw-unused')).status, 200);
});

t.test('a TTL node unmodified past its TTL and childless is removed', async (t) => {
  await zk.create('/sw-ttl', '', 'ttl=200');
  t.ok(await gone('/sw-ttl', 3000));
});

t.test('a TTL node with a child stays, and goes once the child is deleted', async (t) => {
  await zk.create('/sw-ttl-parent', '', 'ttl=100');
  await zk.create('/sw-ttl-parent/kid');
  await sleep(500);
  t.equal((await zk.stat('/sw-ttl-parent')).status, 200, 'a child keeps it');
  await zk.delete('/sw-ttl-parent/kid');
  t.ok(await gone('/sw-ttl-parent', 3000));
});

t.test('a TTL node kept modified within its TTL stays', async (t) => {
  await zk.create('/sw-ttl-busy', '', 'ttl=1000');
  const t0 = Date.now();
  for (let i = 0; Date.now() - t0 < 1600; i++) {
    await sleep(200);
    t.equal((await zk.set('/sw-ttl-busy', String(i))).status, 200);
  }
  t.equal((await zk.stat('/sw-ttl-busy')).status, 200, 'setData refreshes mtime');
});

t.test('a long TTL and plain persistent nodes are left alone', async (t) => {
  await zk.create('/sw-ttl-long', '', 'ttl=600000');
  await zk.create('/sw-plain');
  await sleep(300);
  t.equal((await zk.stat('/sw-ttl-long')).status, 200);
  t.equal((await zk.stat('/sw-plain')).status, 200);
});

t.test('a sweep that examines only some candidates goes on from where the last one stopped', async (t) => {
  // One reap per sweep (600 a minute at 100 ms), so a sweep looks at 20 entries of the container/TTL index. 30
  // busy containers sort before the empty one: a sweep that always began at the start of the index never got to it.
  const { zk: z } = await serverFor(t, { containerCheckIntervalMs: 100, containerMaxPerMinute: 600 });
  for (let i = 0; i < 30; i++) {
    const p = `/busy-${String(i).padStart(2, '0')}`;
    await z.create(p, '', 'container');
    await z.create(`${p}/kid`);
  }
  await z.create('/zz-cont', '', 'container');
  await z.create('/zz-cont/kid');
  await z.delete('/zz-cont/kid');
  t.ok(await eventually(async () => (await z.stat('/zz-cont')).status === 404, 5000), 'the container past the first sweep\'s window is reaped');
  t.equal((await z.stat('/busy-29')).status, 200, 'the busy ones stay');
});

t.test('a chunk of the sweep examines at most its share, stops at its reaps, and says where the next goes on', async (t) => {
  // A long interval: no sweep of the server's own runs while the test looks at the index.
  const { server: srv, zk: z } = await serverFor(t, { containerCheckIntervalMs: 600_000 });
  for (const name of ['a', 'b', 'c', 'd', 'e']) {
    await z.create(`/ch-${name}`, '', 'container');
    await z.create(`/ch-${name}/kid`);
  }
  for (const name of ['b', 'd']) await z.delete(`/ch-${name}/kid`);
  const store = srv.node.store;
  const cfg = srv.cfg;
  const now = Date.now();
  const paths = (c: ReturnType<typeof findReapable>) => c.txns.map((x) => (x as { path: string }).path);
  const first = findReapable(store, cfg, now, undefined, 2, 10);
  t.same([paths(first), first.examined, first.next], [['/ch-b'], 2, '/ch-b'], 'two examined, the empty one found, goes on after it');
  const second = findReapable(store, cfg, now, first.next, 2, 10);
  t.same([paths(second), second.examined, second.next], [['/ch-d'], 2, '/ch-d']);
  const third = findReapable(store, cfg, now, second.next, 2, 10);
  t.same([paths(third), third.examined, third.next], [[], 1, undefined], 'the end of the index: the next starts over');
  const capped = findReapable(store, cfg, now, undefined, 100, 1);
  t.same([paths(capped), capped.examined, capped.next], [['/ch-b'], 2, '/ch-b'], 'stops at its reaps, and goes on after the last one');
  t.same(sweepBudget({ ...cfg, containerMaxPerMinute: 10000, containerCheckIntervalMs: 60000 }), { scan: 200000, reaps: 10000 }, 'the defaults\' budget');
});

t.test('reaps wait for room in a small write queue, go on as it drains, and leave clients\' writes alone', async (t) => {
  // A queue of 50 leaves the node's own writes 5 at a time. 200 containers fall due at once; the sweep's budget
  // (one sweep per 2 s) covers them all, so they must go within a few sweeps, not 40. (That the cap keeps clients'
  // writes from being refused is shown where it matters more, test/sessions/mass-expiry.test.ts.)
  const { server: srv, zk: z } = await serverFor(t, { containerCheckIntervalMs: 2000, containerMaxPerMinute: 600_000, maxPendingWrites: 50 });
  const multi = async (ops: object[]) => (await fetch(`${srv.url}/v1/multi`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ops }) })).status;
  const names = Array.from({ length: 200 }, (_, i) => `/rq-${String(i).padStart(3, '0')}`);
  t.equal(await multi(names.flatMap((p) => [{ op: 'create', path: p, mode: 'CONTAINER' }, { op: 'create', path: `${p}/kid` }])), 200);
  t.equal(await multi(names.map((p) => ({ op: 'delete', path: `${p}/kid` }))), 200);
  await z.create('/rq-writes');
  const refused: number[] = [];
  let stop = false;
  const writer = async () => {
    while (!stop) {
      const r = await z.set('/rq-writes', 'x');
      if (r.status !== 200) refused.push(r.status);
    }
  };
  const writers = Array.from({ length: 8 }, writer);
  const left = async () => (await Promise.all(names.map(async (p) => (await z.stat(p)).status))).filter((s) => s === 200).length;
  const allGone = await eventually(async () => (await left()) === 0, 10_000);
  stop = true;
  await Promise.all(writers);
  t.ok(allGone, `all 200 reaped within 10 s (${await left()} left)`);
  t.same(refused, [], 'no client write refused');
});
