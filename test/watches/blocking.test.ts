// Blocking reads for curl users (Consul-style): GET /v1/znodes/<p>?wait=…&index=<zxid> answers as soon as the node
// (or, with ?children, its child list) changes after index, or when the capped wait ends, with the current state.
import t from 'tap';
import net from 'node:net';
import { startTestServer } from '../helpers/server.js';
import { http } from './client.js';

// Waits here are long (60 s): a read that wrongly waits fails by the subtest's timeout, not by timing.
const s = await startTestServer({ blockingReadMaxWaitMs: 60000, maxBlockingReads: 2 });
const quick = { timeout: 10000 };
t.teardown(() => s.destroy());
const base = s.url;
const z = (p: string) => '/v1/znodes' + p;
const zxidOf = (r: { headers: Headers }) => Number(r.headers.get('zk-zxid'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a node changed after index answers at once', quick, async (t) => {
  const c = await http(base, 'POST', z('/b1'), 'one');
  const idx = Number((c.body.stat as { mzxid: string }).mzxid) - 1;
  const r = await http(base, 'GET', z('/b1') + `?wait=60s&index=${idx}`);
  t.equal(r.status, 200);
  t.equal(r.body.data, 'one');
});

t.test('an unchanged node waits until it changes, then answers with the new state and its zxid', async (t) => {
  const c = await http(base, 'POST', z('/b2'), 'one');
  const pending = http(base, 'GET', z('/b2') + `?wait=60s&index=${zxidOf(c)}`);
  let answered = false;
  void pending.then(() => (answered = true));
  await sleep(100);
  t.notOk(answered, 'still waiting while nothing changed');
  const w = await http(base, 'PUT', z('/b2'), 'two');
  const r = await pending;
  t.equal(r.body.data, 'two');
  t.ok(zxidOf(r) >= Number((w.body.stat as { mzxid: string }).mzxid), 'ZK-Zxid covers the change');
});

t.test('?children waits for the child list, not the data', async (t) => {
  const c = await http(base, 'POST', z('/b3'));
  const pending = http(base, 'GET', z('/b3') + `?children&wait=30s&index=${zxidOf(c)}`);
  let answered = false;
  void pending.then(() => (answered = true));
  await http(base, 'PUT', z('/b3'), 'data only');
  await sleep(100);
  t.notOk(answered, 'a data change does not end a children wait');
  await http(base, 'POST', z('/b3/kid'));
  t.same((await pending).body.children, ['kid']);
});

t.test('waiting for a missing node ends when it is created', quick, async (t) => {
  const now = zxidOf(await http(base, 'POST', '/v1/sync'));
  const pending = http(base, 'GET', z('/b4') + `?wait=60s&index=${now}`);
  await sleep(50);
  await http(base, 'POST', z('/b4'), 'here');
  t.equal((await pending).body.data, 'here');
});

t.test('a missing node waits for its creation when only other nodes were created or deleted after index', async (t) => {
  const idx = zxidOf(await http(base, 'POST', '/v1/sync'));
  await http(base, 'POST', z('/other'));
  await http(base, 'DELETE', z('/other'));
  const pending = http(base, 'GET', z('/b6') + `?wait=60s&index=${idx}`);
  let answered = false;
  void pending.then(() => (answered = true));
  await sleep(100);
  t.notOk(answered, 'still waiting: /b6 itself did not change');
  await http(base, 'POST', z('/b6'), 'here');
  t.equal((await pending).body.data, 'here');
});

t.test('a missing node deleted after index answers at once', quick, async (t) => {
  await http(base, 'POST', z('/b7'));
  const idx = zxidOf(await http(base, 'POST', '/v1/sync'));
  await http(base, 'DELETE', z('/b7'));
  const r = await http(base, 'GET', z('/b7') + `?wait=60s&index=${idx}`);
  t.equal(r.status, 404);
});

t.test('the wait is capped by blockingReadMaxWaitMs and ends with the current state', quick, async (t) => {
  const capped = await startTestServer({ blockingReadMaxWaitMs: 200 });
  t.teardown(() => capped.destroy());
  await http(capped.url, 'POST', z('/cap'), 'same');
  const idx = zxidOf(await http(capped.url, 'POST', '/v1/sync'));
  const r = await http(capped.url, 'GET', z('/cap') + `?wait=10m&index=${idx}`);
  t.equal(r.status, 200);
  t.equal(r.body.data, 'same');
});

t.test('blocking reads are bounded in number and validated', async (t) => {
  await http(base, 'POST', z('/b5'));
  const idx = zxidOf(await http(base, 'POST', '/v1/sync'));
  const a = http(base, 'GET', z('/b5') + `?wait=60s&index=${idx}`);
  const b = http(base, 'GET', z('/b5') + `?wait=60s&index=${idx}`);
  await sleep(50);
  const third = await http(base, 'GET', z('/b5') + `?wait=60s&index=${idx}`);
  t.equal(third.status, 503);
  t.equal(third.body.error, 'ConnectionLoss');
  await http(base, 'PUT', z('/b5'), 'go');
  t.equal((await a).status, 200);
  t.equal((await b).status, 200);
  t.equal((await http(base, 'GET', z('/b5') + '?wait=soon&index=1')).status, 400);
  t.equal((await http(base, 'GET', z('/b5') + '?wait=1s&index=-3')).status, 400);
});

t.test('a client that hangs up ends its wait and frees its slot; the reads it pipelined behind it never take one', async (t) => {
  await http(base, 'POST', z('/b8'));
  const idx = zxidOf(await http(base, 'POST', '/v1/sync'));
  const wait = () => http(base, 'GET', z('/b8') + `?wait=60s&index=${idx}`);
  // Two reads pipelined on one connection run one at a time (server/request-order.ts): one slot of the two
  // (maxBlockingReads 2) is theirs, the other is left for another client.
  const sock = net.connect({ port: s.port, host: '127.0.0.1' });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const one = `GET ${z('/b8')}?wait=60s&index=${idx} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
  sock.write(one + one);
  await sleep(200);
  const other = wait();
  await sleep(200);
  t.equal((await wait()).status, 503, 'both slots held: the pipelined connection\'s one, and the other client\'s');
  sock.destroy();
  await sleep(200);
  const after = wait();
  await sleep(50);
  await http(base, 'PUT', z('/b8'), 'go');
  t.equal((await other).status, 200, 'the other client\'s wait is answered by the change');
  t.equal((await after).status, 200, 'the slot the hang-up freed was taken, and the read queued behind it never took one');
});
