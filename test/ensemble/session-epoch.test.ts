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
