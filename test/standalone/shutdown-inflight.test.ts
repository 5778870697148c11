// A write already on its way when shutdown begins (its headers in, its body still arriving) is carried out and
// answered, and its keep-alive connection is closed with the answer, so that shutdown does not wait on it. Before,
// the answer said "keep-alive", the connection stayed open and close() sat out its 5 s guard. Both the fast path
// (server/fast-write.ts) and the fastify route are held to it; a restart then serves the write. A request that
// reaches an idle keep-alive connection as shutdown begins is answered (503, applied: false), not reset.
import t from 'tap';
import { rmSync } from 'node:fs';
import { startTestServer, tempDir } from '../helpers/server.js';
import { lastAnswer, rawConnection } from './http.js';

const cases: [name: string, target: string][] = [
  ['fast-path', '/v1/znodes/a'],
  // ?version=-1 means the same write but is the route's (the fast path takes no query string).
  ['route', '/v1/znodes/a?version=-1'],
];

for (const [name, target] of cases) {
  t.test(`${name}: a write whose body arrives after shutdown began is applied, answered and its connection closed`, async (t) => {
    const dataDir = tempDir();
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const s = await startTestServer({ dataDir });
    t.equal((await fetch(`${s.url}/v1/znodes/a`, { method: 'POST', body: 'old' })).status, 201);

    const c = await rawConnection(s.port);
    const events: string[] = [];
    const sockClosed = c.closed.then(() => events.push('connection closed'));
    // The server has parsed the headers (and, for the route, run its request hooks, which settle in microtasks)
    // before shutdown begins: the request is in flight, not a new one that would be refused.
    const taken = new Promise<void>((r) => s.app.server.once('request', () => setImmediate(r)));
    c.sock.write(`PUT ${target} HTTP/1.1\r\nHost: zkgate\r\nContent-Length: 4\r\n\r\nne`);
    await taken;
    const closed = s.close().then(() => events.push('server closed'));
    c.sock.write('w!');
    await closed;
    // Left open by the server (the fault this test is for), the connection is cut here so that the test fails
    // on the order below instead of hanging.
    if (!c.sock.closed) c.sock.destroy();
    await sockClosed;

    const a = lastAnswer(c.received());
    t.equal(a.status, 200, 'the write is carried out');
    t.equal(JSON.parse(a.body).stat.version, 1, 'as a set of the node');
    t.equal(a.headers.connection, 'close', 'the answer closes its connection');
    t.notOk('keep-alive' in a.headers, 'and offers no keep-alive');
    t.same(events, ['connection closed', 'server closed'], 'the server closes the connection; shutdown does not wait for the client to');

    const again = await startTestServer({ dataDir });
    t.teardown(() => again.close());
    const r = await fetch(`${again.url}/v1/znodes/a`, { headers: { accept: 'application/octet-stream' } });
    t.equal(Buffer.from(await r.arrayBuffer()).toString(), 'new!', 'the acknowledged write is there after a restart');
  });
}

t.test('a request sent on an idle keep-alive connection as shutdown begins is answered 503, not reset', async (t) => {
  const dataDir = tempDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const s = await startTestServer({ dataDir });
  const c = await rawConnection(s.port);
  // One exchange first, so the connection is an idle keep-alive one when shutdown begins.
  const first = new Promise<void>((r) => c.sock.once('data', () => r()));
  c.sock.write('GET /v1/admin/ruok HTTP/1.1\r\nHost: zkgate\r\n\r\n');
  await first;
  const closed = s.close();
  c.sock.write('POST /v1/znodes/late HTTP/1.1\r\nHost: zkgate\r\nContent-Length: 1\r\n\r\nx');
  await c.closed;
  await closed;

  const a = lastAnswer(c.received());
  t.equal(a.status, 503, 'the request is answered: 503');
  t.equal(a.headers.connection, 'close', 'and the connection closed after the answer');
  t.ok(a.headers['retry-after'] !== undefined, 'with Retry-After');
  const body = JSON.parse(a.body) as { error: string; applied?: boolean };
  t.equal(body.error, 'ConnectionLoss');
  t.equal(body.applied, false, 'saying the write was not applied, so a retry elsewhere is safe');

  const again = await startTestServer({ dataDir });
  t.teardown(() => again.close());
  t.equal((await fetch(`${again.url}/v1/znodes/late`)).status, 404, 'and it was not');
});
