// Container and TTL reaping (ZOOKEEPER.md §1.4–1.5) on a short containerCheckIntervalMs: what goes and what stays.
import t from 'tap';
import { eventually, serverFor, sleep } from './http.js';

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
