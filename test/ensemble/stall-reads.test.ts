// A member that did not run for a while (SIGSTOP, a VM frozen by its host) knows nothing of what the ensemble did
// meanwhile, and nothing it has received yet tells it: it still counts itself a follower of the leader it had. README
// "Reads" promises a read is served only by a member that has known a leader within syncLimit × tickTime (2.5 s
// here). Back from a 5 s stop, before it has caught up with a leader, it must refuse reads (503) rather than answer
// from its old tree: a node created meanwhile is never 404 there, and a node changed meanwhile never its old value.
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { req, retry } from './client.js';

t.test('a follower back from a stop longer than the read bound refuses reads until it has caught up; it never answers from its old tree', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = ens.node(await ens.waitForLeader());
  const follower = ens.nodes.find((n) => n.id !== leader.id) as (typeof ens.nodes)[number];
  t.equal((await req(`${leader.url}/v1/znodes/st`, 'POST', 'before')).status, 201);
  t.equal((await retry(() => req(`${follower.url}/v1/znodes/st`), (r) => r.status === 200)).body.data, 'before', 'the follower has it');

  ens.pause(follower.id);
  await new Promise((r) => setTimeout(r, 5000));
  // Written while the follower is stopped: the leader and the third member are a quorum.
  t.equal((await retry(() => req(`${leader.url}/v1/znodes/st`, 'PUT', 'after'), (r) => r.status !== 503)).status, 200);
  t.equal((await retry(() => req(`${leader.url}/v1/znodes/st-new`, 'POST', 'x'), (r) => r.status !== 503)).status, 201);
  ens.resume(follower.id);

  const seen: string[] = [];
  const deadline = Date.now() + 20_000;
  let caughtUp = false;
  while (Date.now() < deadline && !caughtUp) {
    const [created, changed] = await Promise.all([req(`${follower.url}/v1/znodes/st-new`), req(`${follower.url}/v1/znodes/st`)]);
    seen.push(`${created.status}/${changed.status}:${String(changed.body.data ?? changed.body.error)}`);
    caughtUp = created.status === 200 && changed.status === 200;
  }
  t.ok(caughtUp, 'it serves again once it has caught up');
  const stale = seen.filter((s) => s.startsWith('404') || s.includes(':before'));
  t.same(stale, [], `no answer from the old tree (${seen.length} tries: ${[...new Set(seen)].join(', ')})`);
  t.ok(seen.every((s) => /^(200|503)\/(200|503):/.test(s)), 'every answer was the new state or a refusal');
});
