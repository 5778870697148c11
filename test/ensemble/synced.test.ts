// syncLimit as in ZooKeeper: the leader counts a follower as synced only while it acknowledges within
// syncLimit × tickTime (the test ensemble: 5 × 500 ms), whatever its TCP connection says.
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { req, retry } from './client.js';

interface Member {
  id: number;
  connected: boolean;
  synced: boolean | null;
}

t.test('a follower that stops acknowledging (SIGSTOP) is no longer synced after syncLimit × tickTime, and is again once it answers', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = ens.node(await ens.waitForLeader());
  const mntr = () => req(`${leader.url}/v1/admin/mntr`);
  const both = await retry(mntr, (r) => r.body.zk_synced_followers === 2);
  t.equal(both.body.zk_synced_followers, 2, 'both followers are synced');
  const follower = ens.nodes.find((n) => n.id !== leader.id) as (typeof ens.nodes)[number];
  const onFollower = (await req(`${follower.url}/v1/admin/cluster`)).body.members as Member[];
  t.ok(onFollower.every((m) => m.synced === null), 'a follower cannot tell who is synced: null');

  ens.pause(follower.id);
  const stopped = Date.now();
  const one = await retry(mntr, (r) => r.body.zk_synced_followers === 1, 15000);
  const took = Date.now() - stopped;
  t.equal(one.body.zk_synced_followers, 1, `the stopped follower is not synced after ${took} ms`);
  t.ok(took >= 2000, 'not before syncLimit × tickTime (2500 ms) has about passed');
  const members = (await req(`${leader.url}/v1/admin/cluster`)).body.members as Member[];
  const m = members.find((x) => x.id === follower.id);
  t.equal(m?.connected, true, 'its connection is still up');
  t.equal(m?.synced, false, 'but the cluster view says it is not synced');
  t.equal(members.find((x) => x.id === leader.id)?.synced, true, 'the leader is synced with itself');

  ens.resume(follower.id);
  const again = await retry(mntr, (r) => r.body.zk_synced_followers === 2, 15000);
  t.equal(again.body.zk_synced_followers, 2, 'synced again once it answers');
});
