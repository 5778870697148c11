// maxPendingPerConnection: a connection that pipelines requests (sends them without waiting for answers) is no longer
// read from once it has more than that many read and unanswered, and is read again at half that; other connections
// are served meanwhile. Method: one raw socket pipelines blocking reads (?wait&index), which stay unanswered until the
// node changes, so what the server has read shows in `cons`' `outstanding` for that connection. Each request is
// padded to ~2 KiB so that one 64 KiB read holds at most 32 of them: the server takes every request of a read it
// has made, so the bound is maxPendingPerConnection plus one read. Then a write answers the waits, and every request,
// those held back in TCP included, must be answered. The same load without the bound shows the test can tell.
import t, { type Test } from 'tap';
import net from 'node:net';
import { startTestServer, type TestServer } from '../helpers/server.js';

const PIPELINED = 400;
const LIMIT = 40;
const PAD = 'x'.repeat(2000);
/** Requests one read can hold: a read is at most 64 KiB and each request is over 2,000 bytes. */
const PER_READ = Math.ceil(65536 / 2000);

interface Cons {
  connections: { remotePort: number; outstanding: number; kind: string }[];
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const r = await fetch(url, init);
  return (await r.json()) as T;
}

/** Answers counted on `sock` by their status lines (the JSON bodies never hold one), in all and by status. */
function countAnswers(sock: net.Socket): { ok: () => number; other: () => number; byStatus: Map<string, number> } {
  const byStatus = new Map<string, number>();
  let buf = '';
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => {
    buf += d;
    const re = /HTTP\/1\.1 (\d{3}) /g;
    let end = 0;
    for (let m = re.exec(buf); m !== null; m = re.exec(buf)) {
      byStatus.set(m[1] as string, (byStatus.get(m[1] as string) ?? 0) + 1);
      end = re.lastIndex;
    }
    // Past the last status line counted, keep only what could be the start of one split across reads.
    buf = buf.slice(Math.max(end, buf.length - 16));
  });
  const all = () => [...byStatus.values()].reduce((a, b) => a + b, 0);
  return { ok: () => byStatus.get('200') ?? 0, other: () => all() - (byStatus.get('200') ?? 0), byStatus };
}

async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Pipelines blocking reads of `paths` after `index` on a new connection; returns it and its answer count. */
async function pipeline(t: Test, s: TestServer, paths: string[], index: number, pad = PAD) {
  const sock = net.connect({ port: s.port, host: '127.0.0.1' });
  t.teardown(() => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const answers = countAnswers(sock);
  sock.write(paths.map((p) => `GET /v1/znodes${p}?wait=60s&index=${index} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${pad}\r\n\r\n`).join(''));
  const port = sock.localPort as number;
  const outstanding = async () => (await json<Cons>(`${s.url}/v1/admin/cons`)).connections.find((c) => c.remotePort === port)?.outstanding ?? 0;
  return { sock, answers, outstanding };
}

async function setUp(t: Test, maxPendingPerConnection: number, paths = ['/w']) {
  const s = await startTestServer({ maxPendingPerConnection, blockingReadMaxWaitMs: 60000 });
  t.teardown(() => s.destroy());
  let index = 0;
  for (const p of paths) {
    const r = await fetch(`${s.url}/v1/znodes${p}`, { method: 'POST', body: 'v0' });
    t.equal(r.status, 201);
    index = Number(r.headers.get('zk-zxid'));
  }
  return { s, index };
}

t.test('a pipelining connection is not read past the bound; others are served; all are answered after', async (t) => {
  const { s, index } = await setUp(t, LIMIT);
  const p = await pipeline(t, s, Array<string>(PIPELINED).fill('/w'), index);
  // The reads wait for a change, so the server holds every request it has read.
  await until(async () => (await p.outstanding()) > LIMIT, 10000, `over ${LIMIT} requests read`);
  // Give the server time to read more if it would (it must not): the client's socket has all 400 sent or queued.
  await new Promise((r) => setTimeout(r, 300));
  const held = await p.outstanding();
  t.ok(held > LIMIT && held <= LIMIT + PER_READ, `${held} requests read and unanswered: within ${LIMIT} + one read (${PER_READ})`);
  t.equal(p.answers.ok() + p.answers.other(), 0, 'none answered yet');

  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  t.match(metrics, /^zkgate_connections_throttled_total 1$/m, 'counted once');

  const other = await fetch(`${s.url}/v1/znodes/w`);
  t.equal(other.status, 200, 'another connection is served meanwhile');
  t.equal(((await other.json()) as { data: string }).data, 'v0');

  const w = await fetch(`${s.url}/v1/znodes/w`, { method: 'PUT', body: 'v1' });
  t.equal(w.status, 200);
  // Every blocking read now answers, so the connection is read again until all 400 are in and answered.
  await until(() => p.answers.ok() + p.answers.other() >= PIPELINED, 20000, `all ${PIPELINED} answered`);
  t.equal(p.answers.ok(), PIPELINED, `all ${PIPELINED} answered 200`);
  t.equal(await p.outstanding(), 0, 'nothing left outstanding on the connection');
});

t.test('without the bound (0) the same connection has every request read at once', async (t) => {
  const { s, index } = await setUp(t, 0);
  const p = await pipeline(t, s, Array<string>(PIPELINED).fill('/w'), index);
  await until(async () => (await p.outstanding()) === PIPELINED, 10000, `all ${PIPELINED} read`);
  t.pass(`${PIPELINED} requests read and unanswered`);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  t.match(metrics, /^zkgate_connections_throttled_total 0$/m, 'never throttled');
  await fetch(`${s.url}/v1/znodes/w`, { method: 'PUT', body: 'v1' });
  await until(() => p.answers.ok() >= PIPELINED, 20000, `all ${PIPELINED} answered`);
});

// Node itself resumes a connection it sees answers queue up on (pipelined answers written behind an earlier one), so
// the case only this bound's own resume covers is answers that each go out alone: here every read waits on its own
// node, and the nodes change one at a time, each after the previous answer arrived.
t.test('answered one at a time, a throttled connection is read again once half are answered', async (t) => {
  const paths = Array.from({ length: 30 }, (_, i) => `/s${i}`);
  const { s, index } = await setUp(t, 6, paths);
  // 8 KB each: one read holds at most 9, so the server reads at most 15 before the first answer.
  const p = await pipeline(t, s, paths, index, 'x'.repeat(8000));
  await until(async () => (await p.outstanding()) > 6, 10000, 'over 6 requests read');
  for (let i = 0; i < paths.length; i++) {
    const r = await fetch(`${s.url}/v1/znodes/s${i}`, { method: 'PUT', body: 'v1' });
    t.equal(r.status, 200);
    await until(() => p.answers.ok() > i, 10000, `read ${i} answered`);
  }
  t.equal(p.answers.ok(), paths.length, 'every read answered');
});

// The request that takes a connection past the bound may not have its body yet: reading stops before it arrives, and
// only reading again brings it. Every earlier request was read whole, so once they are answered the connection must
// be read again even though one request (this one) is still unanswered; else it waits for ever. The earlier ones are
// blocking reads answered one at a time, so that Node's own resume (on answers queued behind another) does not come.
t.test('a request whose body comes after the connection stopped being read still completes (bound 1)', async (t) => {
  const { s, index } = await setUp(t, 1, ['/b', '/b1', '/b2']);
  const sock = net.connect({ port: s.port, host: '127.0.0.1' });
  t.teardown(() => sock.destroy());
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const answers = countAnswers(sock);
  const wait = (p: string) => `GET /v1/znodes${p}?wait=60s&index=${index} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  // Two waiting reads, the second of which takes the connection past 1, and the headers of a PUT.
  sock.write(wait('/b1') + wait('/b2') + `PUT /v1/znodes/b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 300));
  sock.write('v3');
  for (const [i, p] of ['/b1', '/b2'].entries()) {
    t.equal((await fetch(`${s.url}/v1/znodes${p}`, { method: 'PUT', body: 'x' })).status, 200);
    await until(() => answers.ok() > i, 10000, `the read of ${p} answered`);
  }
  await until(() => answers.ok() + answers.other() >= 3, 10000, 'the PUT answered');
  t.equal(answers.ok(), 3, 'both reads and the PUT answered 200');
  const r = await fetch(`${s.url}/v1/znodes/b`);
  t.equal(((await r.json()) as { data: string }).data, 'v3', 'the body sent after the pause was read');
});

// Node would answer a request with an Expect it does not know itself (a bare 417), without handing it to the server;
// the server now takes those too (the expectation ignored). Either way such a request must count as read and then as
// answered, or a client could send them first to lift its bound: here 300 of them, then pipelined blocking reads, with
// maxBlockingReads 80 so that reading past the bound shows as 503s among the reads' answers.
t.test("requests with an Expect Node does not know are served and counted like any other: they do not lift a connection's bound", async (t) => {
  const s = await startTestServer({ maxPendingPerConnection: LIMIT, maxBlockingReads: 80, blockingReadMaxWaitMs: 60000 });
  t.teardown(() => s.destroy());
  const r = await fetch(`${s.url}/v1/znodes/w`, { method: 'POST', body: 'v0' });
  const index = Number(r.headers.get('zk-zxid'));
  const sock = net.connect({ port: s.port, host: '127.0.0.1' });
  t.teardown(() => sock.destroy());
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  const statuses = countAnswers(sock).byStatus;
  sock.write(`GET /v1/admin/ruok HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: something-else\r\n\r\n`.repeat(300));
  await until(() => (statuses.get('200') ?? 0) === 300, 10000, '300 answered 200 (the expectation ignored, as RFC 9110 allows)');
  sock.write(`GET /v1/znodes/w?wait=60s&index=${index} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ${PAD}\r\n\r\n`.repeat(PIPELINED));
  await new Promise((r) => setTimeout(r, 300));
  t.equal((await fetch(`${s.url}/v1/znodes/w`, { method: 'PUT', body: 'v1' })).status, 200);
  await until(() => (statuses.get('200') ?? 0) + (statuses.get('503') ?? 0) >= 300 + PIPELINED, 20000, `all ${PIPELINED} reads answered`);
  t.same(Object.fromEntries(statuses), { '200': 300 + PIPELINED }, 'every read waited and was answered 200: none was read past the bound into the blocking-read limit');
});
