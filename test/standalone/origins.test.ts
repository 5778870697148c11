// Browser pages (server/origins.ts): a request carrying Origin is served only from this server's own origin or one
// in corsAllowOrigins, so a page on another site cannot write through its visitor's browser (a form POST needs no
// preflight, a WebSocket no CORS); listed origins get CORS headers and preflights; clients without Origin are as
// before.
import t from 'tap';
import WebSocket from 'ws';
import { request } from 'node:http';
import { parseOrigins } from '../../server/origins.js';
import { startTestServer } from '../helpers/server.js';

const EVIL = 'http://evil.example';
const APP = 'http://app.example:3000';

async function send(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const r = await fetch(base + path, { method, headers, body });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text && r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

/** A PUT with the Host header a browser would send for a page at `origin` (fetch does not let one set Host). */
function withHost(base: string, host: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request(`${base}/v1/znodes/plain`, { method: 'PUT', headers: { host, origin, 'content-type': 'text/plain' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.on('error', reject);
    r.end('h');
  });
}

/** The upgrade's answer: 101, or the status of the refusal. */
function upgrade(base: string, origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace('http', 'ws') + '/v1/watch', origin ? { origin } : {});
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', (e) => reject(e));
  });
}

t.test('without corsAllowOrigins: only same-origin browser requests are served', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const self = s.url; // http://127.0.0.1:<port>
  t.equal((await send(self, 'POST', '/v1/znodes/plain', {}, 'x')).status, 201, 'a client without Origin is served');
  for (const [method, path, body] of [
    ['POST', '/v1/znodes/evil', 'x'],
    ['PUT', '/v1/znodes/plain', 'overwritten'],
    ['DELETE', '/v1/znodes/plain', undefined],
    ['GET', '/v1/znodes/plain', undefined],
    ['POST', '/v1/sessions', undefined],
  ] as const) {
    const r = await send(self, method, path, { origin: EVIL, 'content-type': 'text/plain' }, body);
    t.equal(r.status, 403, `${method} ${path} from another site is 403`);
    t.equal(r.body.error, 'NoAuth');
    t.match(r.body.message, /origin "http:\/\/evil\.example" is refused/);
    t.equal(r.headers.get('access-control-allow-origin'), null, 'and carries no CORS header');
  }
  t.equal((await send(self, 'GET', '/v1/znodes/evil')).status, 404, 'the cross-site create did nothing');
  t.same((await send(self, 'GET', '/v1/znodes/plain')).body.data, 'x', 'nor the cross-site set or delete');
  t.equal((await send(self, 'PUT', '/v1/znodes/plain', { origin: 'null' }, 'y')).status, 403, 'an opaque (null) origin is refused');
  t.equal((await send(self, 'PUT', '/v1/znodes/plain', { origin: self }, 'y')).status, 200, "the server's own origin is served (Swagger UI at /docs)");
  const proxied = await send(self, 'PUT', '/v1/znodes/plain', { origin: 'https://zk.example', 'x-forwarded-host': 'zk.example' }, 'z');
  t.equal(proxied.status, 200, 'behind a proxy, the origin it forwards for is the same origin');
  // DNS rebinding: the page's name now points at this server, so Host and Origin both name it.
  const port = new URL(self).port;
  t.equal(await withHost(self, `evil.example:${port}`, `http://evil.example:${port}`), 403, "a page whose name was rebound to this server is refused: that name in Host is not this server's");
  t.equal(await withHost(self, `localhost:${port}`, `http://localhost:${port}`), 200, 'localhost is its own');
  t.equal(await withHost(self, `127.0.0.1:${port}`, `http://127.0.0.1:${port}`), 200, 'and so is its address');
  t.equal(await upgrade(self, EVIL), 403, 'a WebSocket from another site is refused on the upgrade');
  t.equal(await upgrade(self), 101, 'a WebSocket without Origin opens');
  t.equal(await upgrade(self, self), 101, 'and one from the same origin');
});

t.test('corsAllowOrigins lists the pages that may use the API: preflights, CORS headers on answers and errors', async (t) => {
  const s = await startTestServer({ corsAllowOrigins: [APP] });
  t.teardown(() => s.destroy());
  const pre = await send(s.url, 'OPTIONS', '/v1/znodes/a', {
    origin: APP,
    'access-control-request-method': 'PUT',
    'access-control-request-headers': 'zk-session, if-match, content-type',
  });
  t.equal(pre.status, 204, 'the preflight is answered');
  t.equal(pre.headers.get('access-control-allow-origin'), APP);
  t.match(pre.headers.get('access-control-allow-methods'), /PUT/);
  t.match(pre.headers.get('access-control-allow-headers'), /ZK-Session/);
  t.match(pre.headers.get('access-control-allow-headers'), /If-Match/);
  const notPreflight = await send(s.url, 'OPTIONS', '/v1/znodes/a', { origin: APP });
  t.equal(notPreflight.status, 405, 'an OPTIONS that is no preflight is the routes\' 405, as without CORS');
  t.equal(notPreflight.body.error, 'Unimplemented');
  t.equal(notPreflight.headers.get('allow'), 'GET, HEAD, POST, PUT, DELETE');
  const created = await send(s.url, 'POST', '/v1/znodes/a', { origin: APP }, 'v');
  t.equal(created.status, 201);
  t.equal(created.headers.get('access-control-allow-origin'), APP, 'the answer carries the CORS header');
  t.match(created.headers.get('access-control-expose-headers'), /ZK-Zxid/, 'and lets the page read ZK-Zxid');
  t.match(created.headers.get('access-control-expose-headers'), /Location/);
  const missing = await send(s.url, 'GET', '/v1/znodes/none', { origin: APP });
  t.equal(missing.status, 404);
  t.equal(missing.headers.get('access-control-allow-origin'), APP, 'so does an error, so the page can read it');
  t.equal((await send(s.url, 'PUT', '/v1/znodes/a', { origin: EVIL }, 'w')).status, 403, 'an origin not listed is still refused');
  t.equal(await upgrade(s.url, APP), 101, 'a listed origin opens a WebSocket');
  t.equal(await upgrade(s.url, EVIL), 403, 'another does not');
});

t.test('corsAllowOrigins=* serves every page', async (t) => {
  const s = await startTestServer({ corsAllowOrigins: ['*'] });
  t.teardown(() => s.destroy());
  const r = await send(s.url, 'POST', '/v1/znodes/any', { origin: EVIL }, 'v');
  t.equal(r.status, 201);
  t.equal(r.headers.get('access-control-allow-origin'), '*');
  t.equal(await upgrade(s.url, EVIL), 101);
});

t.test('corsAllowOrigins takes origins, not URLs', async (t) => {
  t.same(parseOrigins('corsAllowOrigins', ' https://A.example , http://localhost:3000/ '), ['https://a.example', 'http://localhost:3000']);
  t.same(parseOrigins('corsAllowOrigins', '*'), ['*']);
  t.same(parseOrigins('corsAllowOrigins', ''), []);
  for (const bad of ['https://a.example/app', 'a.example', 'null', '*,https://a.example', 'file:///x']) {
    t.throws(() => parseOrigins('corsAllowOrigins', bad), /corsAllowOrigins/, bad);
  }
});
