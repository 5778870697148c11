// Bounds on the HTTP port's connections. maxCnxns (ZooKeeper's): at most that many open, WebSockets included; one more
// is closed on arrival without an answer and counted in zkgate_connections_dropped_total; a freed slot is usable again.
// maxClientCnxns (ZooKeeper's): the same, per client address, counted in zkgate_client_connections_refused_total.
// httpRequestTimeoutMs: a request not received whole in time is answered 400 MarshallingError and its connection closed.
import t, { type Test } from 'tap';
import net from 'node:net';
import WebSocket from 'ws';
import { logInto } from '../helpers/log.js';
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

  static open(port: number, localAddress = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(new RawClient(s)));
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

/** Opens `n` connections from `localAddress` and returns them once each has been answered (so the server holds them). */
async function openServed(t: Test, port: number, n: number, localAddress = '127.0.0.1'): Promise<RawClient[]> {
  const out: RawClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await RawClient.open(port, localAddress);
    t.teardown(() => c.sock.destroy());
    out.push(c);
  }
  const answers = await Promise.all(out.map((c) => c.get('/v1/admin/ruok')));
  t.equal(answers.filter((a) => a !== null && /imok$/.test(a)).length, n, `${n} connections from ${localAddress} served`);
  return out;
}

/** A new connection from `localAddress` gets its answer, retrying while the server has not yet seen a freed slot. */
async function servedSoon(t: Test, port: number, localAddress: string): Promise<string | null> {
  let answer: string | null = null;
  for (let i = 0; i < 50 && answer === null; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 20));
    const c = await RawClient.open(port, localAddress);
    t.teardown(() => c.sock.destroy());
    answer = await c.get('/v1/admin/ruok');
  }
  return answer;
}

/** A WebSocket on /v1/watch, open. */
async function openWebSocket(t: Test, port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/watch`);
  t.teardown(() => ws.close());
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  return ws;
}

t.test('maxCnxns bounds open connections on the HTTP port, WebSockets included', async (t) => {
  const s = await startTestServer({ maxCnxns: 3, wsMaxConnections: 2 });
  t.teardown(() => s.destroy());
  const [a, b] = (await openServed(t, s.port, 2)) as [RawClient, RawClient];
  await openWebSocket(t, s.port);
  t.pass('a WebSocket takes the third slot');

  const extra = await RawClient.open(s.port);
  t.equal(await extra.get('/v1/admin/ruok'), null, 'a fourth connection is closed without an answer');
  const metrics = await a.get('/metrics');
  t.match(metrics, /^zkgate_connections_dropped_total 1$/m, 'and counted');

  b.sock.destroy();
  await b.closed;
  // The server learns of the freed slot when its side of the socket closes, a moment after ours.
  t.match(await servedSoon(t, s.port, '127.0.0.1'), /imok$/, 'a freed slot takes a new connection');
});

t.test('maxClientCnxns bounds the connections from one client address, WebSockets included', async (t) => {
  const s = await startTestServer({ maxClientCnxns: 3 });
  t.teardown(() => s.destroy());
  const [a, b] = (await openServed(t, s.port, 2)) as [RawClient, RawClient];
  await openWebSocket(t, s.port);
  t.pass('a WebSocket takes the third connection of 127.0.0.1');

  const extra = await RawClient.open(s.port);
  t.equal(await extra.get('/v1/admin/ruok'), null, 'a fourth from 127.0.0.1 is closed without an answer');
  const other = await openServed(t, s.port, 3, '127.0.0.2');
  t.match(await (other[0] as RawClient).get('/metrics'), /^zkgate_client_connections_refused_total 1$/m, 'the refusal is counted');
  t.match(await (other[0] as RawClient).get('/metrics'), /^zkgate_connections_dropped_total 0$/m, 'apart from maxCnxns drops');

  b.sock.destroy();
  await b.closed;
  t.match(await servedSoon(t, s.port, '127.0.0.1'), /imok$/, 'a connection closed frees its slot for that address');
  t.match(await a.get('/v1/admin/ruok'), /imok$/, 'the connections kept are served throughout');
});

t.test('maxClientCnxns bounds nothing unless set', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  t.equal(s.cfg.maxClientCnxns, 0, 'the default');
  // As many as fetch opens for a Promise.all of 250 requests, past ZooKeeper's 60 and Consul's 200.
  const [first] = (await openServed(t, s.port, 250)) as [RawClient];
  t.match(await first.get('/metrics'), /^zkgate_client_connections_refused_total 0$/m, 'none refused');
});

t.test('connections closed on arrival are logged once per 10 s, naming the bound', async (t) => {
  const lines: { level: number; msg: string }[] = [];
  const log = logInto(lines, 'warn');
  const s = await startTestServer({ maxCnxns: 3, wsMaxConnections: 1, maxClientCnxns: 2 }, log);
  t.teardown(() => s.destroy());
  await openServed(t, s.port, 2);
  for (let i = 0; i < 3; i++) t.equal(await (await RawClient.open(s.port)).get('/v1/admin/ruok'), null, `connection ${i + 3} from 127.0.0.1 refused`);
  await openServed(t, s.port, 1, '127.0.0.2');
  for (let i = 0; i < 3; i++) t.equal(await (await RawClient.open(s.port, '127.0.0.3')).get('/v1/admin/ruok'), null, `connection ${i + 1} from 127.0.0.3 dropped`);
  const warned = lines.filter((l) => l.level === 40).map((l) => l.msg);
  t.same(
    warned.filter((m) => /maxClientCnxns/.test(m)),
    ['too many connections from 127.0.0.1: max is 2 (maxClientCnxns); new ones are closed on arrival (zkgate_client_connections_refused_total counts them)'],
    'three refusals, one line',
  );
  t.same(
    warned.filter((m) => /maxCnxns \(/.test(m)),
    ['the HTTP port has maxCnxns (3) connections open: new ones are closed on arrival (zkgate_connections_dropped_total counts them)'],
    'three drops, one line',
  );
});

t.test('httpRequestTimeoutMs: a request whose body never finishes gets 400 MarshallingError and its connection is closed', async (t) => {
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
  t.match(got, /^HTTP\/1\.1 400 /, 'answered 400');
  t.match(got, /"error":"MarshallingError".*"message":"the request was not received in time"/s, 'with a ZooKeeper-style error');
  const check = await RawClient.open(s.port);
  t.teardown(() => check.sock.destroy());
  t.match(await check.get('/v1/znodes/slow?stat'), /^HTTP\/1\.1 404 /, 'and nothing was created');
});
