// The fast getData path (server/fast-read.ts) and its read cache: a plain GET answers exactly what the fastify
// route answers (the same URL with an empty query string goes to the route), and no cached answer outlives a
// change of its znode (set, delete, ACL change, a child's create or delete, multi, session close).
import t, { type Test } from 'tap';
import { Agent, request as httpRequest } from 'node:http';
import { basic, digest, serverFor, zurl, type Client, type Res } from './http.js';

const { server, zk } = await serverFor(t, { minZxidWaitMs: 300 });

/** The fast path's answer and the route's answer for the same znode. */
async function both(path: string, headers: Record<string, string> = {}): Promise<{ fast: Res; route: Res }> {
  const fast = await zk.call('GET', zurl(path), { headers });
  const route = await zk.call('GET', zurl(path) + '?', { headers });
  return { fast, route };
}

function sameAnswer(t: Test, fast: Res, route: Res): void {
  t.equal(fast.status, route.status, 'status');
  t.equal(fast.raw.toString('utf8'), route.raw.toString('utf8'), 'body bytes');
  for (const h of ['etag', 'content-type', 'content-length', 'zk-zxid']) t.equal(fast.header(h), route.header(h), h);
}

t.test('a plain GET answers byte for byte as the route does', async (t) => {
  const session = await zk.session(30000);
  await zk.create('/fr', 'parent');
  const cases: [string, Buffer | string, string?, Record<string, string>?][] = [
    ['/fr/utf8', 'héllo wörld ✓'],
    ['/fr/binary', Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x22])],
    ['/fr/empty', ''],
    ['/fr/quotes', 'a "quoted" \\ back\nslash\u0001'],
    ['/fr/sp ace & ünïcode', 'x'],
    ['/fr/eph', 'mine', 'ephemeral', { 'zk-session': session }],
    ['/fr/seq-', 'n', 'sequential'],
  ];
  const paths: string[] = [];
  for (const [p, data, q, h] of cases) {
    const r = await zk.create(p, data, q ?? '', h ?? {});
    t.equal(r.status, 201, `create ${p}`);
    paths.push(r.body.path);
  }
  await zk.set('/fr/utf8', 'changed twice');
  await zk.set('/fr/utf8', 'changed twice!');
  for (const p of ['/', '/fr', ...paths]) {
    // Twice: the first fills the cache, the second is answered from it.
    for (const round of ['miss', 'hit']) {
      const { fast, route } = await both(p);
      t.equal(fast.status, 200, `${p} ${round}`);
      sameAnswer(t, fast, route);
    }
  }
  // A ZK-Min-Zxid the node has reached changes nothing in the answer.
  const zxid = (await zk.get('/fr')).header('zk-zxid') ?? '';
  for (const min of ['0', zxid, ` ${zxid} `]) {
    const { fast, route } = await both('/fr/utf8', { 'zk-min-zxid': min });
    t.equal(fast.status, 200, `ZK-Min-Zxid ${JSON.stringify(min)}`);
    sameAnswer(t, fast, route);
  }
  const eph = await zk.get('/fr/eph');
  t.equal(eph.body.stat.ephemeralOwner, session);
});

t.test('errors and the forms the fast path leaves alone are the route\'s', async (t) => {
  await zk.create('/fr-e', 'x');
  const missing = await both('/fr-e/nope');
  t.equal(missing.fast.status, 404);
  sameAnswer(t, missing.fast, missing.route);
  const badPath = await zk.call('GET', '/v1/znodes/fr-e/');
  t.equal(badPath.status, 400);
  t.equal(badPath.body.error, 'BadArguments');
  const raw = await zk.get('/fr-e', '', { accept: 'application/octet-stream' });
  t.equal(raw.raw.toString(), 'x');
  t.ok(raw.header('zk-stat'));
  const children = await zk.children('/fr-e');
  t.same(children.body.children, []);
  const badMin = await zk.get('/fr-e', '', { 'zk-min-zxid': 'soon' });
  t.equal(badMin.status, 400);
  t.equal(badMin.body.error, 'BadArguments');
  // Beyond what the node has applied: the route's bounded wait, then 503 with Retry-After.
  const ahead = await zk.get('/fr-e', '', { 'zk-min-zxid': '999999999' });
  t.equal(ahead.status, 503);
  t.equal(ahead.header('retry-after'), '1');
});

t.test('a cached answer is dropped when its znode changes', async (t) => {
  const get = (p: string) => zk.get(p);
  await zk.create('/fc', 'v0');
  await get('/fc');
  await get('/fc');
  await zk.set('/fc', 'v1');
  let r = await get('/fc');
  t.equal(r.body.data, 'v1', 'set');
  t.equal(r.header('etag'), '"1"');

  await zk.create('/fc/child', 'c');
  r = await get('/fc');
  t.equal(r.body.stat.numChildren, 1, 'a child create changes the parent\'s stat');
  await zk.delete('/fc/child');
  r = await get('/fc');
  t.equal(r.body.stat.numChildren, 0, 'and so does its delete');

  const m = await zk.multi([{ op: 'set', path: '/fc', data: 'v-multi' }]);
  t.equal(m.status, 200);
  r = await get('/fc');
  t.equal(r.body.data, 'v-multi', 'multi');

  const acl = await zk.setAcl('/fc', [{ scheme: 'digest', id: digest('ann', 'pw'), perms: 'cdrwa' }]);
  t.equal(acl.status, 200);
  r = await get('/fc');
  t.equal(r.status, 403, 'an ACL change is seen at once');
  r = await zk.get('/fc', '', basic('ann', 'pw'));
  t.equal(r.status, 200);
  t.equal(r.body.data, 'v-multi');
  r = await zk.get('/fc', '', basic('ann', 'pw'));
  t.equal(r.body.stat.aversion, 1);

  await zk.with(basic('ann', 'pw')).delete('/fc');
  r = await get('/fc');
  t.equal(r.status, 404, 'delete');
  await zk.create('/fc', 'again');
  r = await get('/fc');
  t.equal(r.body.data, 'again', 'a new node at the same path');
  t.equal(r.body.stat.version, 0);
});

t.test('a closed session\'s ephemerals are gone from the cache too', async (t) => {
  const sid = await zk.session(30000);
  t.equal((await zk.create('/fe', 'x', 'ephemeral', { 'zk-session': sid })).status, 201);
  t.equal((await zk.get('/fe')).status, 200);
  t.equal((await zk.call('DELETE', `/v1/sessions/${sid}`)).status, 204);
  t.equal((await zk.get('/fe')).status, 404);
});

t.test('the fast path counts its answers in mntr and /metrics', async (t) => {
  await zk.create('/fm', 'x');
  const count = async () => {
    const m = await zk.call('GET', '/metrics');
    const line = m.raw.toString().split('\n').find((l) => l.startsWith('zkgate_requests_total{') && l.includes('op="getData"') && l.includes('code="200"'));
    return Number(line?.split(' ').pop() ?? 0);
  };
  const before = await count();
  for (let i = 0; i < 5; i++) t.equal((await zk.get('/fm')).status, 200);
  t.equal((await count()) - before, 5);
});

t.test('many distinct znodes are answered right and cached within the bound', async (t) => {
  const c: Client = zk;
  await c.create('/fb', '');
  const ops = Array.from({ length: 300 }, (_, i) => ({ op: 'create', path: `/fb/n${i}`, data: `v${i}` }));
  t.equal((await c.multi(ops)).status, 200);
  for (let i = 0; i < 300; i += 7) t.equal((await c.get(`/fb/n${i}`)).body.data, `v${i}`);
  t.ok(server.node.store.readCache.size > 0, 'answers were cached');
  t.ok(server.node.store.readCache.size <= server.node.store.readCache.maxEntries);
  const metrics = (await c.call('GET', '/metrics')).raw.toString();
  const gauge = (name: string) => Number(/^(\S+) (\S+)$/m.exec(metrics.split('\n').find((l) => l.startsWith(name + ' ')) ?? '')?.[2]);
  t.equal(gauge('zkgate_read_cache_entries'), server.node.store.readCache.size, '/metrics shows the cache size');
  t.equal(gauge('zkgate_read_cache_bytes'), server.node.store.readCache.byteSize);
});

t.test('keep-alive connections: the fast path\'s server keeps them as fastify does', async (t) => {
  await zk.create('/fka', 'x');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const get = (path: string) =>
    new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const u = new URL(server.url);
      const r = httpRequest({ host: u.hostname, port: u.port, path, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      r.on('error', reject);
      r.end();
    });
  const fast = await get(zurl('/fka'));
  const route = await get(zurl('/fka') + '?');
  t.equal(fast.status, 200);
  t.equal(fast.headers.connection, 'keep-alive');
  t.equal(fast.headers['keep-alive'], route.headers['keep-alive'], 'the same idle timeout is announced (and kept)');
  t.match(String(fast.headers['keep-alive']), /timeout=72/, "fastify's 72 s, not Node's 5 s");
});
