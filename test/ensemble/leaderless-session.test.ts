// A member that knows no leader cannot keep a session alive (only the leader expires sessions), so it must not say
// it did: a client cut off with a minority would otherwise believe it still holds its ephemerals and locks.
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { WatchClient } from '../watches/client.js';
import { req, retry } from './client.js';

t.test('on a member with no leader a keepalive is 503 ConnectionLoss with Retry-After, a WebSocket session frame is refused and a session-bound socket is closed 1013; reads are still served', async (t) => {
  // syncLimit × tickTime = 20 s: within this test the member is not yet cut off (test/ensemble/cut-off-reads.test.ts).
  const ens = await startEnsemble({ extra: ['syncLimit=40'] });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const [lone, other] = ens.nodes.filter((n) => n.id !== leader);
  if (!lone || !other) throw new Error('a 3-node ensemble has two followers');
  await retry(() => req(`${lone.url}/v1/admin/srvr`), (r) => r.body.mode === 'follower');
  // Serving reads: a member that starts serves none until it has caught up with the leader.
  await retry(() => req(`${lone.url}/v1/znodes/`), (r) => r.status === 200);
  const s = await req(`${ens.node(leader).url}/v1/sessions`, 'POST', JSON.stringify({ timeoutMs: 10000 }), { 'content-type': 'application/json' });
  const sid = s.body.sessionId as string;
  t.equal((await req(`${lone.url}/v1/sessions/${sid}/keepalive`, 'POST')).status, 200, 'a keepalive on a follower that knows the leader is 200');
  const ws = await WatchClient.open(lone.url);
  t.teardown(() => ws.close());
  t.equal((await ws.request({ op: 'session', sessionId: sid })).ok, true, 'and so is binding the session there');
  const unbound = await WatchClient.open(lone.url);
  t.teardown(() => unbound.close());

  const killedAt = Date.now();
  await ens.kill(leader);
  await ens.kill(other.id);
  await retry(() => req(`${lone.url}/v1/admin/srvr`), (r) => r.body.mode === 'looking', 15000);
  const lookingSeenAt = Date.now();
  const keep = await req(`${lone.url}/v1/sessions/${sid}/keepalive`, 'POST');
  t.equal(keep.status, 503, 'a keepalive on the leaderless member is 503');
  t.equal(keep.body.error, 'ConnectionLoss');
  t.equal(keep.body.code, -4);
  t.ok(keep.headers.get('retry-after'), 'with Retry-After');
  t.match(keep.body.message, /knows no leader/);
  const bind = await unbound.request({ op: 'session', sessionId: sid });
  t.equal(bind.ok, false, 'a WebSocket session frame there is refused');
  t.equal(bind.error, 'ConnectionLoss');
  t.equal((await req(`${lone.url}/v1/znodes/`)).status, 200, 'plain reads are still served within syncLimit × tickTime (sequential consistency)');
  // The session's timeout is 10 s: the bound socket goes a third of it after the member turned looking, so the
  // client has the rest to rebind elsewhere before the majority expires the session, and not at a brief blip.
  t.ok(await ws.until(() => ws.closed !== undefined, 10000), 'the session-bound socket is closed');
  const closedAt = Date.now();
  t.ok(closedAt - killedAt >= 10000 / 3, `not before a third of the timeout without a leader (${closedAt - killedAt} ms after the kill)`);
  t.ok(closedAt - lookingSeenAt <= (2 * 10000) / 3, `well before the session could expire (${closedAt - lookingSeenAt} ms after looking was seen)`);
  t.equal(ws.closed?.code, 1013, 'with 1013 (try again later)');
  t.match(ws.closed?.reason, /knows no leader/);
  t.equal(unbound.closed, undefined, 'a socket bound to no session stays: it only watches');
  const sync = await req(`${lone.url}/v1/sync`, 'POST');
  t.equal(sync.status, 503, 'a sync there is 503');
  t.match(sync.body.message, /^sync refused: no leader is known/, 'saying it was a sync');
});
