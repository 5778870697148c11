// ZK-Session-Epoch (server/session-epochs.ts): a write whose epoch is below one its session already carried is
// refused with 503 ConnectionLoss applied:false and the epoch, and is not applied; equal and higher epochs pass, as
// do writes without the header; a malformed epoch is 400.
import t from 'tap';
import { rmSync } from 'node:fs';
import { startTestServer, tempDir } from '../helpers/server.js';

const s = await startTestServer();
t.teardown(() => s.destroy());

async function call(method: string, path: string, headers: Record<string, string>, body?: string) {
  const r = await fetch(`${s.url}${path}`, { method, headers, body });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const session = (await call('POST', '/v1/sessions', { 'content-type': 'application/json' }, '{}')).body.sessionId as string;
const inEpoch = (epoch: string) => ({ 'zk-session': session, 'zk-session-epoch': epoch });

t.test('a write below the epoch its session reached is refused and not applied', async (t) => {
  t.equal((await call('POST', '/v1/znodes/e-a', inEpoch('5'), 'a')).status, 201, 'epoch 5');
  const stale = await call('POST', '/v1/znodes/e-b', inEpoch('3'), 'b');
  t.equal(stale.status, 503);
  t.match(stale.body, { error: 'ConnectionLoss', applied: false, sessionEpoch: 5, message: /moved on: this write's ZK-Session-Epoch 3 is below 5/ });
  t.equal((await call('GET', '/v1/znodes/e-b?stat', {})).status, 404, 'the refused create was not applied');
  const staleSet = await call('PUT', '/v1/znodes/e-a', inEpoch('4'), 'changed');
  t.equal(staleSet.status, 503, 'setData too');
  const multi = await call('POST', '/v1/multi', { ...inEpoch('1'), 'content-type': 'application/json' }, JSON.stringify({ ops: [{ op: 'create', path: '/e-m' }] }));
  t.equal(multi.status, 503, 'a multi too');
  t.equal((await call('GET', '/v1/znodes/e-a', {})).body.data, 'a', 'nothing changed');
  t.equal((await call('PUT', '/v1/znodes/e-a', inEpoch('5'), 'same epoch')).status, 200, 'the same epoch passes');
  t.equal((await call('PUT', '/v1/znodes/e-a', inEpoch('9'), 'later')).status, 200, 'a higher one passes and becomes the bound');
  t.equal((await call('PUT', '/v1/znodes/e-a', inEpoch('5'), 'stale')).status, 503, 'now 5 is stale');
  t.equal((await call('PUT', '/v1/znodes/e-a', { 'zk-session': session }, 'no epoch')).status, 200, 'a write without the header is not checked');
  t.equal((await call('PUT', '/v1/znodes/e-a', { 'zk-session-epoch': '1' }, 'no session')).status, 200, 'nor one without a session');
});

t.test('a multi of one check raises the epoch as any write does: the SDK settles a lost create so', async (t) => {
  const other = (await call('POST', '/v1/sessions', { 'content-type': 'application/json' }, '{}')).body.sessionId as string;
  const at = (epoch: string) => ({ 'zk-session': other, 'zk-session-epoch': epoch, 'content-type': 'application/json' });
  t.equal((await call('POST', '/v1/znodes/e-settle', at('1'), 'x')).status, 201, 'epoch 1');
  const check = await call('POST', '/v1/multi', at('2'), JSON.stringify({ ops: [{ op: 'check', path: '/zookeeper', version: -1 }] }));
  t.equal(check.status, 200, 'the check at epoch 2 commits');
  const stale = await call('POST', '/v1/znodes/e-settle-late', at('1'), 'x');
  t.equal(stale.status, 503, 'a write left behind at epoch 1 is refused after it');
  t.match(stale.body, { applied: false, sessionEpoch: 2 });
});

t.test('another session has its own epochs', async (t) => {
  const other = (await call('POST', '/v1/sessions', { 'content-type': 'application/json' }, '{}')).body.sessionId as string;
  t.equal((await call('POST', '/v1/znodes/e-other', { 'zk-session': other, 'zk-session-epoch': '1' }, 'x')).status, 201);
});

t.test('a malformed ZK-Session-Epoch is 400 BadArguments', async (t) => {
  for (const bad of ['-1', 'x', '1.5', '99999999999999999', '']) {
    const r = await call('PUT', '/v1/znodes/e-a', inEpoch(bad), 'x');
    t.equal(r.status, 400, JSON.stringify(bad));
    t.equal(r.body.error, 'BadArguments');
  }
});

t.test("the session's epoch outlives a restart: a stale write is refused by the node's new process too", async (t) => {
  const dataDir = tempDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  let node = await startTestServer({ dataDir });
  const at = async (epoch: string, path: string) =>
    fetch(`${node.url}/v1/znodes/${path}`, { method: 'POST', headers: { 'zk-session': sid, 'zk-session-epoch': epoch }, body: 'x' });
  const sid = ((await (await fetch(`${node.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"timeoutMs":30000}' })).json()) as { sessionId: string }).sessionId;
  t.equal((await at('7', 'r-a')).status, 201, 'epoch 7');
  await node.close();
  node = await startTestServer({ dataDir });
  t.teardown(() => node.close());
  const stale = await at('6', 'r-b');
  t.equal(stale.status, 503, 'epoch 6 after the restart');
  t.match(await stale.json(), { error: 'ConnectionLoss', applied: false, sessionEpoch: 7 });
  t.equal((await fetch(`${node.url}/v1/znodes/r-b?stat`)).status, 404, 'not applied');
  t.equal((await at('7', 'r-c')).status, 201, 'the epoch the session reached passes');
});
