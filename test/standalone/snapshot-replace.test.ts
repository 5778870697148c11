// Replacing the tree from a snapshot copy (what a follower does on install) must not touch the tree when the copy
// cannot be opened: a second, overlapping install once found its file gone and wiped a follower's whole tree.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { Client } from './http.js';
import { WatchClient } from '../watches/client.js';

/** A server holding /keep with children n0..n4 (data v0..v4). */
async function serverWithKeep(t: Test): Promise<{ s: TestServer; c: Client }> {
  const s = await startTestServer();
  t.teardown(() => s.close());
  const c = new Client(s.url);
  await c.create('/keep', 'v');
  for (let i = 0; i < 5; i++) await c.create(`/keep/n${i}`, `v${i}`);
  return { s, c };
}

t.test('a snapshot file that cannot be opened leaves the tree, and no install mark, behind', async (t) => {
  const { s, c } = await serverWithKeep(t);
  const zxid = s.node.store.lastZxid();
  await t.rejects(s.node.store.replaceTreeFrom(join(tempDir(), 'missing.mdb')), 'the install fails');
  t.equal(s.node.store.installInterrupted, false, 'no interrupted-install mark (a restart would discard the tree)');
  t.equal(s.node.store.lastZxid(), zxid, 'the last zxid is unchanged');
  t.same((await c.children('/keep')).body.children, ['n0', 'n1', 'n2', 'n3', 'n4'], 'every node is still there');
  t.equal((await c.get('/keep/n4')).body.data, 'v4', 'with its data');
});

t.test('a replace that fails half-way leaves reads refused as retryable until one succeeds', async (t) => {
  const { s, c } = await serverWithKeep(t);
  const file = join(tempDir(), 'copy.mdb');
  await s.node.store.backupTo(file);
  t.equal((await c.get('/keep')).status, 200, 'read once, so the fast read path has the answer cached');

  // The last step throws: the tree was wiped and refilled, but the install never completed.
  await t.rejects(
    s.node.store.replaceTreeFrom(file, () => {
      throw new Error('cut short');
    }),
    'the install fails after it began writing',
  );
  t.equal(s.node.store.installInterrupted, true, 'the interrupted-install mark is left for the next start');
  t.equal(s.node.store.treeIncomplete, true, 'the tree counts as incomplete');
  for (const [what, r] of [
    ['getData', await c.get('/keep')],
    ['getChildren', await c.children('/keep')],
    ['exists', await c.stat('/keep/n4')],
    ['getAcl', await c.call('GET', '/v1/acl/keep')],
    ['multiRead', await c.multi([{ op: 'get', path: '/keep' }])],
  ] as const) {
    t.equal(r.status, 503, `${what} is refused`);
    t.equal(r.body.error, 'ConnectionLoss', `${what}: ConnectionLoss, which a client retries`);
    t.equal(r.headers['retry-after'], '1', `${what}: with Retry-After`);
    t.match(String(r.body.message), /installing a snapshot/, `${what}: saying why`);
  }

  const ws = await WatchClient.open(s.url);
  t.teardown(() => ws.close());
  const w = await ws.watch('/keep', 'data');
  t.equal(w.ok, false, 'a WebSocket watch is not armed on it');
  t.equal(w.error, 'ConnectionLoss', 'the watch reply says ConnectionLoss');
  const resumed = await ws.request({ op: 'resume', sinceZxid: '1', watches: [{ path: '/keep', kind: 'data' }] });
  t.match(resumed, { ok: true, results: [{ ok: false, error: 'ConnectionLoss' }] }, 'nor a resumed one');
  const session = (await c.call('POST', '/v1/sessions', { body: {} })).body.sessionId as string;
  t.equal((await c.call('GET', `/v1/sessions/${session}`)).status, 503, 'a session is not read from it either');

  await s.node.store.replaceTreeFrom(file);
  t.equal(s.node.store.treeIncomplete, false, 'a replace that completes makes the tree whole again');
  t.equal((await c.get('/keep/n4')).body.data, 'v4', 'and reads are served from it');
  t.same((await c.children('/keep')).body.children, ['n0', 'n1', 'n2', 'n3', 'n4']);
  t.equal((await ws.watch('/keep', 'data')).ok, true, 'and watches armed on it');
});
