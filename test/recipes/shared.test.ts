// The other recipes under concurrency: read-write lock, semaphore leases, double barrier, CAS counter, tree cache.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { DoubleBarrier, ReadWriteLock, Semaphore, SharedCounter, TreeCache, ZkClient, type VersionedValue } from '../../client/index.js';
import { blackhole, clients, closeAll, eventually } from '../client/fixtures.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('read-write lock: readers share it, a writer excludes everyone, a reader waits only for earlier writers', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const cs = await clients(4, s.url);
  t.teardown(() => closeAll(cs));
  const locks = cs.map((c) => new ReadWriteLock(c, '/rw'));
  let readers = 0;
  let writers = 0;
  let maxReaders = 0;
  let violations = 0;
  const read = async (i: number, holdUntilReaders = 0) => {
    if (!(await locks[i]?.readLock.acquire(30000))) throw new Error('read lock timed out');
    readers++;
    maxReaders = Math.max(maxReaders, readers);
    if (writers > 0) violations++;
    // Holding it, wait for the others to get it too: an exclusive lock would never let them.
    if (holdUntilReaders > 0) await eventually(() => readers, (n) => n >= holdUntilReaders, 20000);
    else await sleep(50);
    readers--;
    await locks[i]?.readLock.release();
  };
  const write = async (i: number) => {
    if (!(await locks[i]?.writeLock.acquire(30000))) throw new Error('write lock timed out');
    writers++;
    if (writers > 1 || readers > 0) violations++;
    await sleep(50);
    writers--;
    await locks[i]?.writeLock.release();
  };
  await Promise.all([read(0, 3), read(1, 3), read(2, 3)]);
  t.equal(maxReaders, 3, 'three readers held the lock together');
  maxReaders = 0;
  await Promise.all([read(0), write(3), read(1), write(2), read(0).then(() => read(1))]);
  t.equal(violations, 0, 'no writer ever overlapped another holder');
});

t.test('semaphore: never more leases than allowed; a released (or expired) lease admits the next', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const cs = await clients(5, s.url);
  t.teardown(() => closeAll(cs));
  let inUse = 0;
  let maxInUse = 0;
  await Promise.all(
    cs.map(async (c) => {
      const sem = new Semaphore(c, '/sem', 2);
      for (let r = 0; r < 2; r++) {
        const lease = await sem.acquire(30000);
        if (!lease) throw new Error('no lease within 30 s');
        maxInUse = Math.max(maxInUse, ++inUse);
        // Held until a second holder shows (or 5 s): on a loaded machine a fixed 60 ms could pass before anyone else
        // was granted one, and "both were used" would depend on timing rather than on the semaphore.
        for (let waited = 0; maxInUse < 2 && waited < 5000; waited += 20) await sleep(20);
        inUse--;
        await lease.release();
      }
    }),
  );
  t.equal(maxInUse, 2, 'two leases at most, and both were used');
  const [a, b, c] = cs as [ZkClient, ZkClient, ZkClient];
  const l1 = await new Semaphore(a, '/sem', 2).acquire();
  const l2 = await new Semaphore(b, '/sem', 2).acquire();
  t.ok(l1 && l2);
  t.equal(await new Semaphore(c, '/sem', 2).acquire(200), null, 'a third lease times out');
  const third = new Semaphore(c, '/sem', 2).acquire(20000);
  await a.close();
  t.ok(await third, "a lease holder's session ended: its lease went to the waiter");
});

t.test('double barrier: nobody passes enter until all arrive, nobody finishes leave until all go', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const cs = await clients(3, s.url);
  t.teardown(() => closeAll(cs));
  const log: string[] = [];
  await Promise.all(
    cs.map(async (c, i) => {
      await sleep(i * 200);
      const b = new DoubleBarrier(c, '/barrier', 3, `m${i}`);
      log.push(`arrive ${i}`);
      t.ok(await b.enter(30000), `member ${i} entered`);
      log.push(`enter ${i}`);
      await sleep((2 - i) * 150);
      log.push(`work done ${i}`);
      t.ok(await b.leave(30000), `member ${i} left`);
      log.push(`leave ${i}`);
    }),
  );
  const firstEnter = log.findIndex((l) => l.startsWith('enter'));
  t.equal(log.slice(0, firstEnter).filter((l) => l.startsWith('arrive')).length, 3, 'all three arrived before anyone entered');
  const firstLeave = log.findIndex((l) => l.startsWith('leave'));
  t.equal(log.slice(0, firstLeave).filter((l) => l.startsWith('work done')).length, 3, 'all three finished before anyone left');
  t.same((await (cs[0] as ZkClient).getChildren('/barrier')).children, [], 'the barrier is empty again');
  t.equal(await new DoubleBarrier(cs[0] as ZkClient, '/barrier', 3, 'late').enter(200), false, 'a lone member times out at enter');
});

t.test('shared counter: concurrent CAS adds lose nothing; trySetCount with a stale version fails; listeners follow', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const cs = await clients(4, s.url, { session: false });
  t.teardown(() => closeAll(cs));
  const watcher = new SharedCounter(cs[0] as ZkClient, '/count', 0);
  await watcher.start();
  const seen: VersionedValue[] = [];
  watcher.on('change', (v: VersionedValue) => seen.push(v));
  await Promise.all(cs.map(async (c) => {
    const ctr = new SharedCounter(c, '/count');
    for (let i = 0; i < 5; i++) await ctr.add(1);
  }));
  const v = await watcher.get();
  t.equal(v.value, 20, 'every add counted');
  t.equal(v.version, 20);
  t.notOk(await watcher.trySetCount({ value: 3, version: 3 }, 100), 'stale CAS refused');
  t.ok(await watcher.trySetCount(v, 100));
  await eventually(() => watcher.current?.value, (x) => x === 100);
  t.equal(watcher.current?.value, 100, 'the listener saw the final value');
  t.ok(seen.length > 0);
  watcher.close();
});

t.test('tree cache: mirrors a subtree from one persistent recursive watch, and rebuilds on resync', async (t) => {
  const s = await startTestServer({ watchHistoryMaxEvents: 5 });
  t.teardown(() => s.destroy());
  // Reconnecting through a server that never answers leaves a gap of a few seconds.
  const hole = await blackhole();
  t.teardown(() => hole.close());
  const w = await ZkClient.connect({ servers: [s.url, hole.url], ordered: true, session: false, connectTimeoutMs: 3000 });
  const c = await ZkClient.connect({ servers: s.url, session: false });
  t.teardown(() => closeAll([w, c]));
  await c.create('/app/a', 'A', { parents: true });
  const cache = new TreeCache(w, '/app');
  const events: string[] = [];
  for (const ev of ['created', 'changed', 'deleted', 'rebuilt'] as const) cache.on(ev, (p?: string) => events.push(`${ev}${typeof p === 'string' ? ' ' + p : ''}`));
  await cache.start();
  t.same(cache.paths(), ['/app', '/app/a']);
  await c.create('/app/b', 'B');
  await c.create('/app/b/c', 'C');
  await c.setData('/app/a', 'A2');
  await c.delete('/app/b/c');
  await eventually(async () => (await cache.settled(), cache.paths().join()), (p) => p === '/app,/app/a,/app/b');
  await eventually(() => new TextDecoder().decode(cache.get('/app/a')?.data), (d) => d === 'A2');
  t.same(cache.children('/app'), ['a', 'b']);
  t.same(events.slice(-4), ['created /app/b', 'created /app/b/c', 'changed /app/a', 'deleted /app/b/c']);

  // Cut the cache's connection; while it tries the silent server, make more changes than the server's history keeps.
  const before = events.length;
  const reconnected = new Promise<void>((r) => w.onState((st) => st === 'SyncConnected' && r()));
  w.conn.drop();
  await c.multi([...Array.from({ length: 8 }, (_, i) => ({ op: 'create' as const, path: `/app/n${i}`, data: String(i) })), { op: 'delete', path: '/app/b' }]);
  await reconnected;
  await eventually(async () => (await cache.settled(), cache.size), (n) => n === 10);
  t.ok(events.slice(before).includes('rebuilt'), 'the server could not replay the gap: the cache rebuilt');
  t.same(cache.paths(), ['/app', '/app/a', ...Array.from({ length: 8 }, (_, i) => `/app/n${i}`)]);
  t.ok(events.slice(before).includes('deleted /app/b'), 'the rebuild reported what went missing');
  t.ok(events.slice(before).includes('created /app/n7'), 'and what was added');
  cache.close();
});

t.test('tree cache: a node with more children than one listing holds (jute.maxbuffer) is read in pages, not skipped', async (t) => {
  const s = await startTestServer({ juteMaxBuffer: 4096 });
  t.teardown(() => s.destroy());
  const [c] = await clients(1, s.url, { session: false });
  t.teardown(() => closeAll([c as ZkClient]));
  const zk = c as ZkClient;
  await zk.create('/big/d', '', { parents: true });
  const names = Array.from({ length: 60 }, (_, i) => `${'n'.repeat(90)}${String(i).padStart(3, '0')}`);
  for (const n of names) await zk.create(`/big/d/${n}`, n);
  await t.rejects(zk.getChildren('/big/d'), /BadArguments/, 'one listing of /big/d is past jute.maxbuffer');
  const cache = new TreeCache(zk, '/big');
  await cache.start();
  t.equal(cache.paths().length, 62, 'every node is cached: /big, /big/d and its 60 children');
  t.same(cache.children('/big/d'), names);
  t.equal(new TextDecoder().decode(cache.get(`/big/d/${names[59]}`)?.data), names[59]);
  cache.close();
  const small = new TreeCache(zk, '/big', { maxNodes: 30 });
  await t.rejects(small.start(), /maxNodes 30/, 'past maxNodes the build fails, as documented');
});
