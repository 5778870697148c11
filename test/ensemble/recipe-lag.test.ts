// A lock or election request served by a member that has not yet applied the session's place (taken through
// another member) must not conclude from its own stale copy that the session has none: release used to answer 404
// "holds no lock" and leave the lock held, and asking again got the session a second place behind its first.
import t, { type Test } from 'tap';
import { startEnsemble, type Ensemble } from '../helpers/ensemble.js';
import { req, retry } from './client.js';

const json = { 'content-type': 'application/json' };

async function ready(t: Test): Promise<{ ens: Ensemble; leaderUrl: string; lagging: number }> {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leaderId = await ens.waitForLeader();
  const lagging = ens.nodes.find((n) => n.id !== leaderId)?.id as number;
  await retry(() => req(`${ens.node(lagging).url}/v1/znodes/`), (r) => r.status === 200);
  return { ens, leaderUrl: ens.node(leaderId).url, lagging };
}

async function newSession(url: string): Promise<string> {
  return (await req(`${url}/v1/sessions`, 'POST', JSON.stringify({ timeoutMs: 30000 }), json)).body.sessionId as string;
}

/** Takes `name`'s lock through the leader while `lagging` is stopped, then sends `request` to `lagging` as it resumes. */
async function throughResumingMember(ens: Ensemble, leaderUrl: string, lagging: number, name: string, sid: string, method: string): Promise<{ status: number; body: Record<string, unknown> }> {
  ens.pause(lagging);
  try {
    const held = await req(`${leaderUrl}/v1/recipes/locks/${name}?wait=5s`, 'POST', undefined, { 'zk-session': sid });
    if (held.status !== 200) throw new Error(`lock not taken through the leader: ${held.status}`);
    // Sent while the member is stopped: it reads the request as soon as it resumes, before it has caught up.
    const answer = req(`${ens.node(lagging).url}/v1/recipes/locks/${name}${method === 'POST' ? '?wait=1s' : ''}`, method, undefined, { 'zk-session': sid });
    await new Promise((r) => setTimeout(r, 50));
    ens.resume(lagging);
    return await answer;
  } finally {
    ens.resume(lagging);
  }
}

t.test('releasing through a member that lags: released, not 404', async (t) => {
  const { ens, leaderUrl, lagging } = await ready(t);
  for (let round = 0; round < 3; round++) {
    const sid = await newSession(leaderUrl);
    const name = `lag-release-${round}`;
    const r = await throughResumingMember(ens, leaderUrl, lagging, name, sid, 'DELETE');
    t.equal(r.status, 204, `round ${round}: released (${JSON.stringify(r.body)})`);
    t.equal((await req(`${leaderUrl}/v1/recipes/locks/${name}`)).status, 404, `round ${round}: nobody holds it afterwards`);
  }
});

t.test('asking again through a member that lags: the session holds its one place', async (t) => {
  const { ens, leaderUrl, lagging } = await ready(t);
  for (let round = 0; round < 3; round++) {
    const sid = await newSession(leaderUrl);
    const name = `lag-again-${round}`;
    const r = await throughResumingMember(ens, leaderUrl, lagging, name, sid, 'POST');
    t.equal(r.status, 200, `round ${round}: held (${JSON.stringify(r.body)})`);
    t.match(r.body, { held: true, key: `/zkgate/locks/${name}/lock-0000000000` }, `round ${round}: the place taken through the leader`);
    const kids = await req(`${leaderUrl}/v1/znodes/zkgate/locks/${name}?children`);
    t.same(kids.body.children, ['lock-0000000000'], `round ${round}: no second place`);
  }
});
