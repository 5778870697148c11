// Every queued element is consumed exactly once: SDK and HTTP producers and consumers on one queue, concurrently.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { DistributedQueue, ZkClient } from '../../client/index.js';
import { clients, closeAll } from '../client/fixtures.js';

t.test('concurrent producers and consumers (SDK take and HTTP poll): each element consumed exactly once, in FIFO order per consumer', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const cs = await clients(4, s.url, { session: false });
  t.teardown(() => closeAll(cs));
  const path = '/zkgate/queues/jobs';
  const perProducer = 10;
  const offered: string[] = [];
  const consumed: { by: string; item: string }[] = [];
  let producing = true;

  const sdkProducer = async (c: ZkClient, id: string) => {
    const q = new DistributedQueue(c, path);
    for (let i = 0; i < perProducer; i++) {
      const item = `${id}-${i}`;
      await q.offer(item);
      offered.push(item);
    }
  };
  const httpProducer = async (id: string) => {
    for (let i = 0; i < perProducer; i++) {
      const item = `${id}-${i}`;
      const r = await fetch(`${s.url}/v1/recipes/queues/jobs`, { method: 'POST', body: item });
      t.equal(r.status, 201);
      offered.push(item);
    }
  };
  const sdkConsumer = async (c: ZkClient, id: string) => {
    const q = new DistributedQueue(c, path);
    for (;;) {
      const got = await q.take(producing ? 2000 : 300);
      if (got === null) {
        if (!producing) return;
        continue;
      }
      consumed.push({ by: id, item: new TextDecoder().decode(got) });
    }
  };
  const httpConsumer = async (id: string) => {
    for (;;) {
      const r = await fetch(`${s.url}/v1/recipes/queues/jobs/poll?wait=${producing ? '2s' : '300ms'}`, { method: 'POST' });
      if (r.status === 204) {
        if (!producing) return;
        continue;
      }
      t.equal(r.status, 200);
      consumed.push({ by: id, item: ((await r.json()) as { data: string }).data });
    }
  };

  const consumers = [sdkConsumer(cs[2] as ZkClient, 'sdk-c1'), sdkConsumer(cs[3] as ZkClient, 'sdk-c2'), httpConsumer('http-c1'), httpConsumer('http-c2')];
  await Promise.all([sdkProducer(cs[0] as ZkClient, 'sdk-p1'), sdkProducer(cs[1] as ZkClient, 'sdk-p2'), httpProducer('http-p1')]);
  producing = false;
  await Promise.all(consumers);
  const items = consumed.map((c) => c.item);
  t.equal(offered.length, 3 * perProducer);
  t.same([...items].sort(), [...offered].sort(), 'every offered element was consumed, none twice');
  t.equal(new Set(items).size, items.length, 'no duplicates');
  for (const by of new Set(consumed.map((c) => c.by))) {
    for (const p of ['sdk-p1', 'sdk-p2', 'http-p1']) {
      const seq = consumed.filter((c) => c.by === by && c.item.startsWith(p + '-')).map((c) => Number(c.item.split('-').pop()));
      t.same(seq, [...seq].sort((a, b) => a - b), `${by} got ${p}'s elements in the order they were offered`);
    }
  }
  t.equal(await new DistributedQueue(cs[0] as ZkClient, path).size(), 0);
  const size = await fetch(`${s.url}/v1/recipes/queues/jobs`).then((r) => r.json());
  t.same(size, { name: 'jobs', size: 0 });
});

t.test('poll on an empty queue waits for an offer (or answers 204 when ?wait ends); a blocked take wakes on offer', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const c = await ZkClient.connect({ servers: s.url, session: false });
  t.teardown(() => c.close());
  const t0 = Date.now();
  const empty = await fetch(`${s.url}/v1/recipes/queues/idle/poll?wait=300ms`, { method: 'POST' });
  t.equal(empty.status, 204);
  t.ok(Date.now() - t0 >= 250, 'it waited for ?wait');
  const polled = fetch(`${s.url}/v1/recipes/queues/idle/poll?wait=20s&encoding=base64`, { method: 'POST' }).then((r) => r.json());
  const q = new DistributedQueue(c, '/zkgate/queues/idle');
  const taken = q.take(20000);
  await new Promise((r) => setTimeout(r, 150));
  await q.offer(new Uint8Array([1, 2, 3]));
  await q.offer('second');
  const [a, b] = await Promise.all([polled, taken]);
  const got = [Buffer.from((a as { data: string }).data, 'base64').toString('hex'), Buffer.from(b as Uint8Array).toString('hex')].sort();
  t.same(got, ['010203', Buffer.from('second').toString('hex')].sort(), 'both waiters got one element each');
  t.equal(await q.poll(), null);
  const bad = await fetch(`${s.url}/v1/recipes/queues/idle/poll?wait=-1`, { method: 'POST' });
  t.equal(bad.status, 400);
});
