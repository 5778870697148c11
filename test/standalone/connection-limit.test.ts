// Bounds on the HTTP port's connections. maxCnxns (ZooKeeper's): at most that many open, WebSockets included; one more
// is closed on arrival without an answer and counted in zkgate_connections_dropped_total; a freed slot is usable again.
// httpRequestTimeoutMs: a request not received whole in time is answered 408 and its connection closed.
import t from 'tap';
import net from 'node:net';
import WebSocket from 'ws';
import { startTestServer } from '../helpers/server.js';

/** A keep-alive connection that sends one GET at a time and returns each answer's raw text. */
class RawClient {
  private buf = '';
  closed: Promise<void>;
  constructor(readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (this.buf += d));
    sock.on('error', () => {});
    this.closed = new Promise((r) => sock.once('close', () => r()));
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** The answer to GET `path`, or null if the connection closed first. */
  async get(path: string): Promise<string | null> {
    this.buf = '';
    this.sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const done = () => {
      const m = /content-length: (\d+)\r\n[\s\S]*?\r\n\r\n/i.exec(this.buf);
      return m !== null && this.buf.length - (m.index + m[0].length) >= Number(m[1]);
    };
    const gone = this.closed.then(() => 'closed' as const);
    while (!done()) {
      if ((await Promise.race([gone, new Promise((r) => setTimeout(r, 10))])) === 'closed' && !done()) return null;
    }
    return this.buf;
  }
}

t.test('maxCnxns bounds open connections on the HTTP port, WebSockets included', async (t) => {
  const s = await startTestServer({ maxCnxns: 3, wsMaxConnections: 2 });
  t.teardown(() => s.destroy());
  const a = await RawClient.open(s.port);
  const b = await RawClient.open(s.port);
  t.teardown(() => [a, b].forEach((c) => c.sock.destroy()));
  t.match(await a.get('/v1/admin/ruok'), /imok$/, 'first connection served');
  t.match(await b.get('/v1/admin/ruok'), /imok$/, 'second connection served');
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/v1/watch`);
  t.teardown(() => ws.close());
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  t.pass('a WebSocket takes the third slot');

  const extra = await RawClient.open(s.port);
  t.equal(await extra.get('/v1/admin/ruok'), null, 'a fourth connection is closed without an answer');
  const metrics = await a.get('/metrics');
  t.match(metrics, /^zkgate_connections_dropped_total 1$/m, 'and counted');

  b.sock.destroy();
  await b.closed;
  const again = await RawClient.open(s.port);
  t.teardown(() => again.sock.destroy());
  let answer = await again.get('/v1/admin/ruok');
  // The server learns of the freed slot when its side of the socket closes, a moment after ours.
  for (let i = 0; i < 50 && answer === null; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const retry = await RawClient.open(s.port);
    t.teardown(() => retry.sock.destroy());
    answer = await retry.get('/v1/admin/ruok');
  }
  t.match(answer, /imok$/, 'a freed slot takes a new connection');
});

t.test('httpRequestTimeoutMs: a request whose body never finishes gets 408 and its connection is closed', async (t) => {
  const s = await startTestServer({ httpRequestTimeoutMs: 300 });
  t.teardown(() => s.destroy());
  const slow = await RawClient.open(s.port);
  t.teardown(() => slow.sock.destroy());
  let got = '';
  slow.sock.on('data', (d: string) => (got += d));
  // Headers and 2 of the 10 body bytes announced, then nothing: a slow (or stalled) client.
  slow.sock.write('POST /v1/znodes/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\nab');
  const startedAt = Date.now();
  await slow.closed;
  t.ok(Date.now() - startedAt < 10_000, `closed after ${Date.now() - startedAt} ms`);
  t.match(got, /^HTTP\/1\.1 408 /, 'answered 408');
  t.match(got, /"error":"MarshallingError".*"message":"the request was not received in time"/s, 'with a ZooKeeper-style error');
  const check = await RawClient.open(s.port);
  t.teardown(() => check.sock.destroy());
  t.match(await check.get('/v1/znodes/slow?stat'), /^HTTP\/1\.1 404 /, 'and nothing was created');
});
