// One connection's requests are carried out in the order sent (server/request-order.ts), and Node's own bare answers
// are replaced by ZooKeeper-style ones (an unknown Expect, a missing Host, an unparsable request after good ones).
import t from 'tap';
import { eventually, rawConnection, serverFor, sleep, type RawAnswer } from './http.js';

const { server, zk } = await serverFor(t, { minZxidWaitMs: 300 });

/** Every whole HTTP answer in `raw`, in order (each framed by its Content-Length). */
function answersIn(raw: string): RawAnswer[] {
  const out: RawAnswer[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const split = rest.indexOf('\r\n\r\n');
    if (split < 0) break;
    const [statusLine = '', ...lines] = rest.slice(0, split).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(split + 4, split + 4 + length) });
    rest = rest.slice(split + 4 + length);
  }
  return out;
}

/** Sends `bytes` at once on a new connection and collects what comes back until `count` answers (or the close). */
async function pipeline(bytes: string, count: number): Promise<RawAnswer[]> {
  const c = await rawConnection(server.port);
  c.sock.write(bytes);
  const deadline = Date.now() + 10_000;
  while (answersIn(c.received()).length < count && Date.now() < deadline && !c.sock.destroyed) await sleep(10);
  await Promise.race([c.closed, sleep(50)]);
  c.sock.destroy();
  return answersIn(c.received());
}

t.test('a read pipelined behind a write on one connection sees the write', async (t) => {
  for (let i = 0; i < 5; i++) {
    const [create, get] = await pipeline(
      `POST /v1/znodes/p-rw${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi` + `GET /v1/znodes/p-rw${i} HTTP/1.1\r\nHost: x\r\n\r\n`,
      2,
    );
    t.equal(create?.status, 201, `round ${i}: the create`);
    t.equal(get?.status, 200, `round ${i}: the read after it finds the node`);
    t.equal(JSON.parse(get?.body ?? '{}').data, 'hi');
    t.ok(Number(get?.headers['zk-zxid']) >= Number(create?.headers['zk-zxid']), 'and reports a zxid no older than the write');
  }
});

t.test('a write pipelined behind a waiting read runs only once the read is answered', async (t) => {
  // The read waits for a zxid one past the current one; run beside it, the write would reach that zxid and serve it.
  const now = Number((await zk.call('POST', '/v1/sync')).body.zxid);
  const [read, write] = await pipeline(
    `GET /v1/znodes/?stat HTTP/1.1\r\nHost: x\r\nZK-Min-Zxid: ${now + 1}\r\n\r\n` + `POST /v1/znodes/p-wr HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
    2,
  );
  t.equal(read?.status, 503, 'the read waited out its bound: the write behind it had not run');
  t.equal(write?.status, 201, 'then the write ran');
  t.equal(JSON.parse(write?.body ?? '{}').stat?.czxid, String(now + 1), 'at the zxid the read had waited for');
});

t.test('writes pipelined on one connection are applied in the order sent', async (t) => {
  await zk.create('/p-order', '0');
  const n = 50;
  let bytes = '';
  for (let i = 1; i <= n; i++) bytes += `PUT /v1/znodes/p-order?version=${i - 1} HTTP/1.1\r\nHost: x\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`;
  const answers = await pipeline(bytes, n);
  t.equal(answers.length, n);
  t.same(
    answers.map((a) => a.status),
    Array.from({ length: n }, () => 200),
    'each conditional set found the version the one before it left',
  );
  t.equal((await zk.get('/p-order')).body.data, String(n));
});

t.test('an unparsable request after good ones is answered after them, and the good ones are answered', async (t) => {
  const answers = await pipeline(`POST /v1/znodes/p-bad HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi` + 'BAD\r\n\r\n', 2);
  t.equal(answers.length, 2, 'two answers');
  t.equal(answers[0]?.status, 201, "the create's own answer first");
  t.equal(answers[1]?.status, 400, 'then the parse error');
  t.equal(JSON.parse(answers[1]?.body ?? '{}').error, 'MarshallingError');
  t.equal(answers[1]?.headers.connection, 'close');
});

t.test('an Expect other than 100-continue is ignored, not answered with a bare 417', async (t) => {
  const [a] = await pipeline(`GET /v1/znodes/?stat HTTP/1.1\r\nHost: x\r\nExpect: nonsense\r\n\r\n`, 1);
  t.equal(a?.status, 200);
  t.match(a?.headers['zk-zxid'], /^\d+$/);
});

t.test('an HTTP/1.1 request without Host is a ZooKeeper-style 400, on every path', async (t) => {
  for (const path of ['/v1/znodes/', '/v1/znodes/p-nohost', '/v1/admin/ruok']) {
    const [a] = await pipeline(`GET ${path} HTTP/1.1\r\n\r\n`, 1);
    t.equal(a?.status, 400, `${path}: 400`);
    t.match(JSON.parse(a?.body ?? '{}'), { error: 'MarshallingError', code: -5, message: /Host/ });
    t.match(a?.headers['zk-zxid'], /^\d+$/);
  }
  const [old] = await pipeline(`GET /v1/znodes/?stat HTTP/1.0\r\n\r\n`, 1);
  t.equal(old?.status, 200, 'HTTP/1.0 has no Host requirement');
});

t.test('pipelined reads a client never reads run one at a time: they stop at its own full socket, and others are served', async (t) => {
  const { server: big } = await serverFor(t, {});
  const value = 'v'.repeat(512 * 1024);
  t.equal((await fetch(`${big.url}/v1/znodes/big`, { method: 'POST', body: value })).status, 201);
  const metric = async () => {
    const text = await (await fetch(`${big.url}/metrics`)).text();
    return Number(/^zkgate_requests_total\{op="getData",code="200"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };
  const before = await metric();
  const c = await rawConnection(big.port);
  t.teardown(() => c.sock.destroy());
  c.sock.pause(); // never reads: the answers fill its socket
  c.sock.write('GET /v1/znodes/big HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200));
  await sleep(500);
  t.equal((await fetch(`${big.url}/v1/admin/ruok`)).status, 200, 'another client is served');
  const answered = (await metric()) - before;
  // Side by side, all 200 ran at once and held 100 MB of answers; one at a time, they stop once the socket is full
  // (the kernel's buffers and PIPELINE_HIGH_WATER: a few MB of 512 KB answers).
  t.ok(answered >= 1 && answered < 50, `${answered} of the 200 answered while the client reads nothing`);
  c.sock.resume();
  const deadline = Date.now() + 20_000;
  while ((await metric()) - before < 200 && Date.now() < deadline) await sleep(50);
  t.equal((await metric()) - before, 200, 'once it reads, every one is answered, in order');
});

t.test('a connection that takes none of its answers for httpRequestTimeoutMs is closed; one that reads slowly is not', async (t) => {
  const { server: s } = await serverFor(t, { httpRequestTimeoutMs: 1000 });
  t.equal((await fetch(`${s.url}/v1/znodes/big`, { method: 'POST', body: 'v'.repeat(512 * 1024) })).status, 201);
  const stalled = async () => Number(/^zkgate_connections_stalled_total (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1]);
  const gets = 'GET /v1/znodes/big HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(40); // 20 MB of answers
  t.equal(await stalled(), 0);

  const slow = await rawConnection(s.port);
  t.teardown(() => slow.sock.destroy());
  slow.sock.pause();
  slow.sock.write(gets);
  // 2 MB at a time, a pause of 250 ms between: longer in all than two of the stall bound, with no whole bound idle.
  let got = 0;
  slow.sock.on('data', (b: Buffer) => {
    got += b.length;
    if (got % (2 << 20) < b.length) slow.sock.pause();
  });
  const started = Date.now();
  while (answersIn(slow.received()).length < 40 && !slow.sock.destroyed && Date.now() - started < 60_000) {
    await sleep(250);
    slow.sock.resume();
  }
  t.equal(answersIn(slow.received()).length, 40, `the slow reader got every answer (in ${Date.now() - started} ms)`);
  t.ok(Date.now() - started > 2000, 'and took longer than twice the bound to read them');
  t.equal(await stalled(), 0, 'it was not closed');
  slow.sock.destroy();

  const idle = await rawConnection(s.port);
  t.teardown(() => idle.sock.destroy());
  idle.sock.pause(); // never reads
  idle.sock.write(gets);
  t.ok(await eventually(async () => (await stalled()) === 1, 20_000), 'the connection that reads nothing is closed and counted');
  idle.sock.resume();
  await Promise.race([idle.closed, sleep(10_000)]);
  t.ok(idle.sock.destroyed || idle.sock.readableEnded, 'its socket is closed');
  t.ok(answersIn(idle.received()).length < 40, `it got ${answersIn(idle.received()).length} of the 40 answers`);
  t.equal((await fetch(`${s.url}/v1/admin/ruok`)).status, 200, 'the server serves on');
});
