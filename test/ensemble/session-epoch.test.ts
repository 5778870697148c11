// ZK-Session-Epoch across members: the leader refuses a write a follower forwards when a later request of the same
// session, through another member, carried a higher epoch (a request left behind on a member the client gave up on).
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { req, retry } from './client.js';

t.test('a write forwarded with an epoch below the one the session reached through the leader is refused, not applied', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leaderId = await ens.waitForLeader();
  const leader = ens.node(leaderId);
  const follower = ens.nodes.find((n) => n.id !== leaderId) as (typeof ens.nodes)[number];
  await retry(() => req(`${follower.url}/v1/znodes/`), (r) => r.status === 200);
  const sid = (await req(`${leader.url}/v1/sessions`, 'POST', '{}', { 'content-type': 'application/json' })).body.sessionId as string;
  const at = (epoch: number) => ({ 'zk-session': sid, 'zk-session-epoch': String(epoch) });
  t.equal((await req(`${follower.url}/v1/znodes/se-1`, 'POST', 'x', at(1))).status, 201, 'epoch 1 through the follower');
  t.equal((await req(`${leader.url}/v1/znodes/se-2`, 'POST', 'x', at(2))).status, 201, 'epoch 2 through the leader');
  const stale = await req(`${follower.url}/v1/znodes/se-3`, 'POST', 'x', at(1));
  t.equal(stale.status, 503, 'epoch 1 again, forwarded by the follower');
  t.match(stale.body, { error: 'ConnectionLoss', applied: false, sessionEpoch: 2 });
  t.equal((await req(`${leader.url}/v1/znodes/se-3?stat`, 'GET', undefined, { 'zk-min-zxid': String(stale.headers.get('zk-zxid')) })).status, 404, 'not applied');
  t.equal((await req(`${follower.url}/v1/znodes/se-3`, 'POST', 'x', at(2))).status, 201, 'the epoch the session reached passes through the follower');
});

t.test('after a leader change the new leader refuses a write below the epoch the session reached under the old one', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const first = await ens.waitForLeader();
  const sid = (await req(`${ens.node(first).url}/v1/sessions`, 'POST', '{"timeoutMs":30000}', { 'content-type': 'application/json' })).body.sessionId as string;
  const at = (epoch: number) => ({ 'zk-session': sid, 'zk-session-epoch': String(epoch) });
  t.equal((await req(`${ens.node(first).url}/v1/znodes/lc-first`, 'POST', 'x', at(4))).status, 201, 'epoch 4 through the first leader');
  await ens.kill(first);
  const second = await ens.waitForLeader(30_000, ens.nodes.filter((n) => n.id !== first).map((n) => n.id));
  t.not(second, first);
  const others = ens.nodes.filter((n) => n.id !== first);
  for (const n of others) {
    const stale = await retry(() => req(`${n.url}/v1/znodes/lc-${n.id}`, 'POST', 'x', at(3)), (r) => r.status !== 503 || r.body.sessionEpoch !== undefined);
    t.equal(stale.status, 503, `epoch 3 through member ${n.id} (${n.id === second ? 'the new leader' : 'a follower'})`);
    t.match(stale.body, { error: 'ConnectionLoss', applied: false, sessionEpoch: 4 });
  }
  for (const n of others) t.equal((await req(`${ens.node(second).url}/v1/znodes/lc-${n.id}?stat`)).status, 404, `member ${n.id}'s stale create was not applied`);
  t.equal((await req(`${ens.node(second).url}/v1/znodes/lc-ok`, 'POST', 'x', at(4))).status, 201, 'the epoch the session reached passes');
});
