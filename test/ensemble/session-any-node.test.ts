// A session created through the leader is usable at once through any other node, without ZK-Min-Zxid: a node
// that does not know the session yet first catches up with what the leader has committed (ReadIndex), so it
// answers 410 only for a session the ensemble has really closed, expired or never had.
import t, { type Test } from 'tap';
import { startEnsemble, type EnsembleNode } from '../helpers/ensemble.js';
import { WatchClient } from '../watches/client.js';
import { req, retry } from './client.js';

const ROUNDS = 30;

/** A 3-node ensemble, torn down with `t`, whose followers all know the leader. */
async function ensembleWithFollowers(t: Test): Promise<{ leader: EnsembleNode; followers: EnsembleNode[] }> {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leaderId = await ens.waitForLeader();
  const followers = ens.nodes.filter((n) => n.id !== leaderId);
  // Followers, and serving reads: a member that starts serves none until it has caught up with the leader.
  await retry(
    () => Promise.all(followers.map(async (n) => `${(await req(`${n.url}/v1/admin/srvr`)).body.mode} ${(await req(`${n.url}/v1/znodes/`)).status}`)),
    (ms) => ms.every((m) => m === 'follower 200'),
  );
  return { leader: ens.node(leaderId), followers };
}

t.test('a new session works through a follower straight away: znode requests, keepalive and session reads', async (t) => {
  const { leader, followers } = await ensembleWithFollowers(t);
  const json = { 'content-type': 'application/json' };
  for (let i = 0; i < ROUNDS; i++) {
    const s = await req(`${leader.url}/v1/sessions`, 'POST', JSON.stringify({ timeoutMs: 10000 }), json);
    t.equal(s.status, 201, `round ${i}: session created through the leader`);
    const sid = s.body.sessionId as string;
    const f = followers[i % followers.length] as (typeof followers)[number];
    // Sent at once, before the follower has necessarily heard that the session's entry is committed.
    const [eph, keep, info] = await Promise.all([
      req(`${f.url}/v1/znodes/e${i}?ephemeral`, 'POST', 'x', { 'zk-session': sid }),
      req(`${f.url}/v1/sessions/${sid}/keepalive`, 'POST'),
      req(`${f.url}/v1/sessions/${sid}`),
    ]);
    t.equal(eph.status, 201, `round ${i}: an ephemeral create in the session through follower ${f.id}`);
    t.equal(keep.status, 200, `round ${i}: a keepalive through follower ${f.id}`);
    t.equal(info.status, 200, `round ${i}: the session read through follower ${f.id}`);
  }
  const unknown = await req(`${followers[0]?.url}/v1/znodes/x`, 'GET', undefined, { 'zk-session': '0x7f00000000000001' });
  t.equal(unknown.status, 410, 'a session the ensemble never had is still 410 on a follower');
  t.equal(unknown.body.error, 'SessionExpired');
});

t.test('a WebSocket on a follower binds a session created through the leader a moment before', async (t) => {
  const { leader, followers } = await ensembleWithFollowers(t);
  for (let i = 0; i < ROUNDS; i++) {
    const f = followers[i % followers.length] as (typeof followers)[number];
    // Open first, so that the bind goes out as soon as the create's answer arrives.
    const wc = await WatchClient.open(f.url);
    t.teardown(() => wc.close());
    const s = await req(`${leader.url}/v1/sessions`, 'POST', JSON.stringify({ timeoutMs: 10000 }), { 'content-type': 'application/json' });
    const bound = await wc.request({ op: 'session', sessionId: s.body.sessionId as string });
    t.equal(bound.ok, true, `round ${i}: follower ${f.id} binds the new session`);
  }
  const wc = await WatchClient.open((followers[0] as (typeof followers)[number]).url);
  t.teardown(() => wc.close());
  const never = await wc.request({ op: 'session', sessionId: '0x7f00000000000002' });
  t.match(never, { ok: false, error: 'SessionExpired' }, 'a session the ensemble never had is refused on a follower');
});
