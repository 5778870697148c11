// The fast write path (server/fast-write.ts): a plain PUT (setData) or POST (create) of /v1/znodes/<path> answers
// exactly as the fastify route does (the same URL with an empty query string goes to the route), errors included,
// and every other form of a write still reaches the route with its own meaning.
import t, { type Test } from 'tap';
import { request as httpRequest } from 'node:http';
import { basic, digest, serverFor, zurl, type Res } from './http.js';

const MAX = 4096;
const { server, zk } = await serverFor(t, { juteMaxBuffer: MAX });

/** The header names of an answer, without Date and the connection's own. */
function headerNames(r: Res): string[] {
  return Object.keys(r.headers)
    .filter((h) => !['date', 'connection', 'keep-alive'].includes(h))
    .sort();
}

/** The JSON keys of a body, recursively and in order: the route's schema fixes them. */
function shape(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v;
  return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shape(x)]);
}

/** A fast answer and a route answer to two writes of the same kind: same status, headers, body layout. */
function sameForm(t: Test, fast: Res, route: Res): void {
  t.equal(fast.status, route.status, 'status');
  t.same(headerNames(fast), headerNames(route), 'header names');
  t.equal(fast.header('content-type'), route.header('content-type'), 'content-type');
  t.same(shape(fast.body), shape(route.body), 'body keys in order');
}

/**
 * Errors are deterministic, so the fast path and the route must answer them byte for byte; only ZK-Zxid may move
 * on, as a write that fails in apply still takes a zxid (ZooKeeper's error transaction).
 */
function sameBytes(t: Test, fast: Res, route: Res): void {
  t.equal(fast.status, route.status, 'status');
  t.equal(fast.raw.toString('utf8'), route.raw.toString('utf8'), 'body bytes');
  for (const h of ['content-type', 'content-length', 'retry-after', 'etag', 'location']) t.equal(fast.header(h), route.header(h), h);
  t.match(fast.header('zk-zxid'), /^\d+$/, 'ZK-Zxid');
  t.ok(Number(route.header('zk-zxid')) - Number(fast.header('zk-zxid')) <= 1, 'ZK-Zxid: the same, or one on');
}

/** The status of a request `call` cannot send (it always sets Content-Length): the body written as `parts`. */
function rawStatus(method: string, path: string, headers: Record<string, string>, parts: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(server.url);
    const r = httpRequest({ host: u.hostname, port: u.port, method, path, agent: false, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    r.on('error', reject);
    for (const p of parts) r.write(p);
    r.end();
  });
}

async function statOf(path: string): Promise<Res['body']['stat']> {
  const r = await zk.get(path, 'stat');
  return r.body.stat;
}

t.test('a plain set answers as the route does, with the stat the write made', async (t) => {
  await zk.create('/fw', '');
  await zk.create('/fw/a', 'v0');
  await zk.create('/fw/b', 'v0');
  const fast = await zk.set('/fw/a', 'v1');
  const route = await zk.call('PUT', zurl('/fw/b') + '?', { body: Buffer.from('v1') });
  t.equal(fast.status, 200);
  sameForm(t, fast, route);
  const stat = await statOf('/fw/a');
  t.equal(fast.raw.toString('utf8'), JSON.stringify({ path: '/fw/a', stat }), 'the body is the path and the new stat, in the schema order');
  t.equal(fast.header('etag'), '"1"');
  t.equal(fast.header('zk-zxid'), stat.mzxid, 'ZK-Zxid is the write\'s zxid when nothing else was written');
  t.equal(fast.header('content-length'), String(fast.raw.length));
  t.equal((await zk.get('/fw/a')).body.data, 'v1');
});

t.test('a plain create answers as the route does, Location included', async (t) => {
  const fast = await zk.create('/fw/c1', 'x');
  const route = await zk.call('POST', zurl('/fw/c2') + '?', { body: Buffer.from('x') });
  t.equal(fast.status, 201);
  sameForm(t, fast, route);
  t.equal(fast.header('location'), zurl('/fw/c1'));
  const stat = await statOf('/fw/c1');
  t.equal(fast.raw.toString('utf8'), JSON.stringify({ path: '/fw/c1', stat }));
  t.equal(stat.version, 0);
  t.equal(stat.ephemeralOwner, '0x0', 'a plain create is persistent');
  const acl = await zk.getAcl('/fw/c1');
  t.same(acl.body.acl, [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }], 'with the open ACL');
  // Escaped and non-ASCII names.
  const odd = await zk.create('/fw/sp ace & ünï', 'y');
  t.equal(odd.status, 201);
  t.equal(odd.body.path, '/fw/sp ace & ünï');
  t.equal(odd.header('location'), zurl('/fw/sp ace & ünï'));
  t.equal((await zk.get('/fw/sp ace & ünï')).body.data, 'y');
});

t.test('bodies: binary, empty, absent and at the size limit', async (t) => {
  const bin = Buffer.from([0xff, 0x00, 0xfe, 0x80, 0x22]);
  t.equal((await zk.create('/fw/bin', bin)).status, 201);
  const got = await zk.get('/fw/bin');
  t.equal(got.body.encoding, 'base64');
  t.same(Buffer.from(got.body.data, 'base64'), bin);
  t.equal((await zk.set('/fw/bin', '')).status, 200);
  t.equal((await zk.get('/fw/bin')).body.data, '');
  t.equal(await rawStatus('POST', zurl('/fw/none'), {}, []), 201, 'no Content-Length and no body at all');
  t.equal((await zk.stat('/fw/none')).body.stat.dataLength, 0);
  const full = Buffer.alloc(MAX, 'z');
  t.equal((await zk.set('/fw/bin', full)).status, 200, 'exactly jute.maxbuffer is accepted');
  t.equal((await zk.stat('/fw/bin')).body.stat.dataLength, MAX);
  const over = await zk.set('/fw/bin', Buffer.alloc(MAX + 1, 'z'));
  t.equal(over.status, 413, 'one byte more is the route\'s 413');
  t.equal(over.body.error, 'BadArguments');
  // A chunked body (no Content-Length) goes to the route and is written all the same.
  t.equal(await rawStatus('PUT', zurl('/fw/bin'), { 'transfer-encoding': 'chunked' }, ['part one, ', 'part two']), 200);
  t.equal((await zk.get('/fw/bin')).body.data, 'part one, part two');
});

t.test('errors answer byte for byte as the route does', async (t) => {
  await zk.create('/fe', '');
  await zk.create('/fe/exists', 'x');
  const sid = await zk.session(30000);
  await zk.create('/fe/eph', '', 'ephemeral', { 'zk-session': sid });
  await zk.create('/fe/locked', 'x', 'acl=' + encodeURIComponent(`digest:${digest('ann', 'pw')}:cdrwa`));
  const cases: [string, string, number][] = [
    ['PUT', '/fe/missing', 404],
    ['POST', '/fe/exists', 409],
    ['POST', '/fe/no/parent', 404],
    ['POST', '/fe/eph/child', 400],
    ['PUT', '/fe/locked', 403],
    ['POST', '/fe/locked/child', 403],
  ];
  for (const [method, path, status] of cases) {
    const fast = await zk.call(method, zurl(path), { body: Buffer.from('d') });
    const route = await zk.call(method, zurl(path) + '?', { body: Buffer.from('d') });
    t.equal(fast.status, status, `${method} ${path}`);
    t.ok(fast.body.error, `${method} ${path}: ${fast.body.error}`);
    sameBytes(t, fast, route);
  }
  t.equal((await zk.with(basic('ann', 'pw')).set('/fe/locked', 'mine')).status, 200, 'credentials go to the route and are honoured');
});

t.test('the forms the fast path leaves alone keep their meaning', async (t) => {
  await zk.create('/fo', 'v0');
  t.equal((await zk.set('/fo', 'x', 'version=5')).status, 412, '?version');
  t.equal((await zk.set('/fo', 'x', '', { 'if-match': '"5"' })).status, 412, 'If-Match');
  t.equal((await zk.set('/fo', 'v1', '', { 'if-match': '"0"' })).status, 200);
  t.equal((await zk.create('/fo/s-', '', 'sequential')).body.path, '/fo/s-0000000000', 'create flags');
  const sid = await zk.session(30000);
  const eph = await zk.create('/fo/e', '', 'ephemeral', { 'zk-session': sid });
  t.equal(eph.status, 201);
  t.equal(eph.body.stat.ephemeralOwner, sid, 'a session');
  t.equal((await zk.set('/fo', 'x', '', { 'zk-session': '0xdeadbeef' })).status, 410, 'an unknown session is refused, not ignored');
  const badPath = await zk.call('PUT', '/v1/znodes/fo/', { body: Buffer.from('x') });
  t.equal(badPath.status, 400);
  t.equal(badPath.body.error, 'BadArguments');
  const ahead = await zk.set('/fo', 'x', '', { 'zk-min-zxid': '999999999' });
  t.equal(ahead.status, 503, 'a ZK-Min-Zxid this node has not reached waits (bounded) in the route');
  const zxid = (await zk.get('/fo')).header('zk-zxid') ?? '';
  t.equal((await zk.set('/fo', 'v2', '', { 'zk-min-zxid': zxid })).status, 200, 'one it has reached needs no wait');
  t.equal((await zk.get('/fo')).body.data, 'v2');
});

t.test('concurrent plain writes are all answered and all applied', async (t) => {
  await zk.create('/fcc', '');
  const creates = await Promise.all(Array.from({ length: 40 }, (_, i) => zk.create(`/fcc/n${i}`, `v${i}`)));
  t.same(creates.map((r) => r.status), Array(40).fill(201));
  const sets = await Promise.all(Array.from({ length: 40 }, (_, i) => zk.set('/fcc', `s${i}`)));
  t.same(sets.map((r) => r.status), Array(40).fill(200));
  t.same(sets.map((r) => r.body.stat.version).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1), 'each set saw its own version');
  const st = await zk.stat('/fcc');
  t.equal(st.body.stat.numChildren, 40);
  t.equal(st.body.stat.version, 40);
});

t.test('the fast path counts its answers in /metrics', async (t) => {
  await zk.create('/fmw', 'x');
  const count = async (op: string, code: string) => {
    const m = await zk.call('GET', '/metrics');
    const line = m.raw.toString().split('\n').find((l) => l.startsWith('zkgate_requests_total{') && l.includes(`op="${op}"`) && l.includes(`code="${code}"`));
    return Number(line?.split(' ').pop() ?? 0);
  };
  const [sets, creates, missing] = [await count('setData', '200'), await count('create', '201'), await count('setData', '404')];
  for (let i = 0; i < 3; i++) t.equal((await zk.set('/fmw', `v${i}`)).status, 200);
  for (let i = 0; i < 2; i++) t.equal((await zk.create(`/fmw/c${i}`, '')).status, 201);
  t.equal((await zk.set('/fmw/none', 'x')).status, 404);
  t.equal((await count('setData', '200')) - sets, 3);
  t.equal((await count('create', '201')) - creates, 2);
  t.equal((await count('setData', '404')) - missing, 1, 'errors too');
});
