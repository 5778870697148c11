// HTTP-level rules (API.md §3, §6): ZK-Zxid on every response, ZK-Min-Zxid waits, 405 with Allow,
// 404 Unimplemented for unknown routes, and bad input answered 4xx, never 5xx.
import t from 'tap';
import { lastAnswer, rawConnection, serverFor } from './http.js';
import { freePort, startTestServer } from '../helpers/server.js';

const { server, zk } = await serverFor(t, { minZxidWaitMs: 200 });

t.test('every response carries ZK-Zxid: successes, errors, 404s and 405s', async (t) => {
  const c = await zk.create('/h-zxid');
  t.equal(c.header('zk-zxid'), c.body.stat.czxid);
  const cases = [
    await zk.get('/h-zxid'),
    await zk.get('/h-missing'),
    await zk.create('/h-zxid'),
    await zk.call('GET', '/v1/nowhere'),
    await zk.call('PATCH', '/v1/znodes/h-zxid'),
    await zk.call('GET', '/v1/znodes/a//b'),
    await zk.call('POST', '/v1/multi', { body: '{', headers: { 'content-type': 'application/json' } }),
    await zk.call('GET', '/v1/admin/ruok'),
  ];
  for (const r of cases) t.match(r.header('zk-zxid'), /^\d+$/, `status ${r.status}`);
  // A failed write takes a zxid, as ZooKeeper logs an error txn for it; reads report the last applied one.
  const now = (await zk.call('POST', '/v1/sync')).body.zxid;
  t.equal((await zk.get('/h-missing')).header('zk-zxid'), now, 'a 404 reports the zxid applied');
  t.equal((await zk.call('GET', '/v1/znodes/bad%ZZ')).header('zk-zxid'), now, 'a URL the router rejects too');
  t.equal((await zk.call('DELETE', '/v1/multi')).header('zk-zxid'), now, 'a 405 too');
});

t.test('ZK-Min-Zxid already reached is served at once', async (t) => {
  const c = await zk.create('/h-min', 'x');
  const r = await zk.get('/h-min', '', { 'zk-min-zxid': c.body.stat.czxid });
  t.equal(r.status, 200);
  t.equal(r.body.data, 'x');
});

t.test('ZK-Min-Zxid a write reaches while the read waits is served once applied', async (t) => {
  // Its own server with a generous wait, so a slow machine cannot turn the wait into a 503.
  const { zk: patient } = await serverFor(t, { minZxidWaitMs: 20000 });
  const now = BigInt((await patient.call('POST', '/v1/sync')).body.zxid);
  const read = patient.get('/h-later', 'stat', { 'zk-min-zxid': String(now + 1n) });
  await new Promise((r) => setTimeout(r, 50));
  await patient.create('/h-later');
  const r = await read;
  t.equal(r.status, 200, 'the read waited for the create');
  t.equal(r.body.stat.czxid, String(now + 1n));
});

t.test('ZK-Min-Zxid that cannot be reached is 503 ConnectionLoss within the bound', async (t) => {
  const far = BigInt((await zk.call('POST', '/v1/sync')).body.zxid) + 1000n;
  const t0 = Date.now();
  const r = await zk.get('/', 'stat', { 'zk-min-zxid': String(far) });
  const took = Date.now() - t0;
  t.equal(r.status, 503);
  t.equal(r.body.error, 'ConnectionLoss');
  t.equal(r.body.code, -4);
  t.ok(r.header('retry-after'), 'Retry-After is set');
  t.ok(took >= 150 && took < 5000, `waited about minZxidWaitMs (${took} ms)`);
});

t.test('a malformed ZK-Min-Zxid is 400 BadArguments', async (t) => {
  const r = await zk.get('/', 'stat', { 'zk-min-zxid': 'soon' });
  t.equal(r.status, 400);
  t.equal(r.body.error, 'BadArguments');
});

t.test('a ZK-Min-Zxid beyond 64 bits is 400 BadArguments, not a wait that ends in 503', async (t) => {
  for (const [what, query] of [['the route', 'stat'], ['a plain GET', '']]) {
    // A wait would end in 503 ConnectionLoss after minZxidWaitMs: the 400 itself shows there was none.
    const r = await zk.get('/', query, { 'zk-min-zxid': '18446744073709551616' });
    t.equal(r.status, 400, what);
    t.equal(r.body.error, 'BadArguments', what);
    t.match(r.body.message, /18446744073709551616/, `${what}: names the value as sent`);
  }
});

t.test('a ZK-Min-Zxid within 64 bits but past any zxid handed out (2^53) is 400 naming it exactly, not a rounded wait', async (t) => {
  const r = await zk.get('/', 'stat', { 'zk-min-zxid': '18446744073709551615' });
  t.equal(r.status, 400);
  t.equal(r.body.error, 'BadArguments');
  t.match(r.body.message, /ZK-Min-Zxid 18446744073709551615 is beyond any zxid/);
});

t.test('a wrong method on a known route is 405 Unimplemented with Allow', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['PATCH', '/v1/znodes/x', /GET.*HEAD.*POST.*PUT.*DELETE/],
    ['DELETE', '/v1/multi', /^POST$/],
    ['GET', '/v1/sync', /^POST$/],
    ['PUT', '/v1/sessions', /^POST$/],
    ['POST', '/v1/acl/x', /^GET, PUT$/],
    ['GET', '/v1/sessions/0x1/keepalive', /^POST$/],
  ];
  for (const [method, url, allow] of cases) {
    const r = await zk.call(method, url);
    t.equal(r.status, 405, `${method} ${url}`);
    t.equal(r.body.error, 'Unimplemented');
    t.equal(r.body.code, -6);
    t.match(r.header('allow'), allow);
  }
});

t.test('a request line in absolute form (as sent through a forward proxy) names the same znode', async (t) => {
  const origin = `http://127.0.0.1:${server.port}`;
  const made = await zk.call('POST', `${origin}/v1/znodes/h-abs/x?parents`, { body: 'v' });
  t.equal(made.status, 201, 'created through the route');
  t.equal(made.body.path, '/h-abs/x');
  t.equal((await zk.get('/h-abs/x')).body.data, 'v', 'the znode it names, not one under a cut-off host name');
  const plain = await zk.call('GET', `${origin}/v1/znodes/h-abs/x`);
  t.equal(plain.status, 200, 'a plain GET (the fast path) reads it');
  t.equal(plain.body.path, '/h-abs/x');
  const stat = await zk.call('GET', `${origin}/v1/znodes/h-abs/x?stat`);
  t.equal(stat.body.path, '/h-abs/x', 'a GET with a query (the route) reads it');
  const set = await zk.call('PUT', `HTTP://127.0.0.1:${server.port}/v1/znodes/h-abs/x`, { body: 'w' });
  t.equal(set.status, 200, 'a plain PUT (the fast path), scheme in capitals');
  t.equal((await zk.get('/h-abs/x')).body.data, 'w');
  const children = await zk.call('GET', `${origin}/v1/znodes/?children`);
  t.ok(children.body.children?.includes('h-abs'), 'the root');
  t.notOk(children.body.children?.some((c: string) => c.startsWith('.')), 'no znode named after the host');
});

t.test('an unknown query parameter on a znode or ACL route is 400 BadArguments naming it, and changes nothing', async (t) => {
  await zk.create('/h-typo', 'v0');
  const cases: [string, string, string][] = [
    ['PUT', '/v1/znodes/h-typo?verison=5', 'verison'],
    ['DELETE', '/v1/znodes/h-typo?verison=5', 'verison'],
    ['POST', '/v1/znodes/h-typo/e?ephemerel', 'ephemerel'],
    ['GET', '/v1/znodes/h-typo?chidren', 'chidren'],
    ['PUT', '/v1/acl/h-typo?aversion=0', 'aversion'],
    // DELETE's flag, meaningless on a PUT: refused, not ignored.
    ['PUT', '/v1/znodes/h-typo?recursive', 'recursive'],
    ['PUT', '/v1/acl/h-typo?recursive', 'recursive'],
    ['GET', '/v1/acl/h-typo?versoin=0', 'versoin'],
  ];
  for (const [method, url, name] of cases) {
    const r = await zk.call(method, url, { body: method === 'PUT' && url.startsWith('/v1/acl') ? { acl: [] } : 'x' });
    t.equal(r.status, 400, `${method} ${url}`);
    t.equal(r.body.error, 'BadArguments');
    t.equal(r.body.message, `unknown query parameter "${name}"`);
  }
  const after = await zk.get('/h-typo');
  t.equal(after.body.data, 'v0', 'not written');
  t.equal(after.body.stat.numChildren, 0, 'nothing created');
  t.equal((await zk.getAcl('/h-typo')).body.stat.aversion, 0, 'ACL untouched');
  const head = await fetch(`${zk.base}/v1/znodes/h-typo?stat`, { method: 'HEAD' });
  t.equal(head.status, 400, 'HEAD too (no body to name it in)');
  t.equal((await zk.call('PUT', '/v1/znodes/h-typo?version=0', { body: 'v1' })).status, 200, 'the parameter spelt right works');
});

t.test('an unknown route is 404 Unimplemented', async (t) => {
  for (const url of ['/v1/nope', '/v2/znodes/x', '/']) {
    const r = await zk.call('GET', url);
    t.equal(r.status, 404, url);
    t.equal(r.body.error, 'Unimplemented');
    t.equal(r.body.code, -6);
  }
});

t.test('malformed JSON bodies are 400 on every JSON route, never 500', async (t) => {
  const sid = await zk.session();
  await zk.create('/h-acl');
  const routes: [string, string][] = [
    ['POST', '/v1/sessions'],
    ['PUT', '/v1/acl/h-acl'],
    ['POST', '/v1/multi'],
  ];
  const bodies = ['{', 'null', '"str"', '[1]', '{"timeoutMs":"x","acl":5,"ops":5}', '\u0000'];
  for (const [method, url] of routes) {
    for (const body of bodies) {
      const r = await zk.call(method, url, { body, headers: { 'content-type': 'application/json' } });
      t.ok(r.status >= 400 && r.status < 500, `${method} ${url} ${JSON.stringify(body)} → ${r.status}`);
      t.ok(typeof r.body.error === 'string', 'a ZooKeeper-style error body');
    }
  }
  t.equal((await zk.call('POST', `/v1/sessions/${sid}/keepalive`)).status, 200, 'the server is still fine');
});

t.test('errors are JSON {error, code, message, path?}', async (t) => {
  const r = await zk.get('/h-nothing');
  t.match(r.header('content-type'), /application\/json/);
  t.equal(typeof r.body.message, 'string');
  t.equal(r.body.path, '/h-nothing');
});

t.test('a request the HTTP parser cannot read is a ZooKeeper-style error, and its connection is closed', async (t) => {
  const cases: [what: string, bytes: string, status: number][] = [
    ['a request line that is not HTTP', 'NOT HTTP AT ALL\r\n\r\n', 400],
    ['a space inside a header name', 'GET /v1/admin/ruok HTTP/1.1\r\nHo st: x\r\n\r\n', 400],
    // What some clients send for a GET or OPTIONS with a body: bytes with no Content-Length, read as the next request.
    ['a body sent without framing', 'OPTIONS /v1/znodes/ HTTP/1.1\r\nHost: x\r\n\r\n{"x":1}', 400],
    ['headers over the size limit', `GET /v1/admin/ruok HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`, 400],
  ];
  for (const [what, bytes, status] of cases) {
    const c = await rawConnection(server.port);
    c.sock.write(bytes);
    await c.closed;
    // The unframed body follows a request that is answered normally; the parse error's answer comes last.
    const a = lastAnswer(c.received());
    t.equal(a.status, status, `${what}: ${status}`);
    t.equal(a.headers.connection, 'close', `${what}: the connection is closed`);
    t.match(a.headers['zk-zxid'], /^\d+$/, `${what}: ZK-Zxid, as on every answer`);
    const body = JSON.parse(a.body) as { error: string; code: number; message: string };
    t.equal(body.error, 'MarshallingError', `${what}: MarshallingError`);
    t.equal(body.code, -5, `${what}: code -5`);
    t.type(body.message, 'string');
  }
  t.equal((await zk.get('/')).status, 200, 'the server goes on serving');
});

t.test('CONNECT (a proxy tunnel) is answered 404 Unimplemented and closed, on the client and the metrics port', async (t) => {
  const metricsPort = await freePort();
  const s = await startTestServer({ metricsPort });
  t.teardown(() => s.destroy());
  for (const [where, port] of [['client port', s.port], ['metrics port', metricsPort]] as const) {
    const c = await rawConnection(port);
    c.sock.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    await c.closed;
    const a = lastAnswer(c.received());
    t.equal(a.status, 404, `${where}: 404`);
    t.equal(a.headers.connection, 'close', `${where}: closed`);
    t.match(a.headers['zk-zxid'], /^\d+$/, `${where}: ZK-Zxid`);
    t.match(JSON.parse(a.body), { error: 'Unimplemented', code: -6, message: /CONNECT example\.com:443.*not a proxy/ }, `${where}: names the request`);
  }
  t.equal((await fetch(`${s.url}/v1/admin/ruok`)).status, 200, 'the server goes on serving');
});
