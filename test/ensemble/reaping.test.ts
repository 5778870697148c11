// Container and TTL reaping in an ensemble: only the leader sweeps, its deletes replicate like any other, and a new
// leader takes the sweeping over.
import t from 'tap';
import { startEnsemble, type Ensemble } from '../helpers/ensemble.js';
import { req, retry } from './client.js';

/** Polls the members `ids` until each answers 404 for `path` (bounded); whether they all did. */
async function goneEverywhere(ens: Ensemble, ids: number[], path: string): Promise<boolean> {
  const statuses = await retry(
    () => Promise.all(ids.map(async (id) => (await req(`${ens.node(id).url}/v1/znodes${path}?stat`)).status)),
    (s) => s.every((x) => x === 404),
    20000,
  );
  return statuses.every((x) => x === 404);
}

t.test('the leader reaps emptied containers and expired TTL nodes; every member sees the delete; a new leader goes on', async (t) => {
  const ens = await startEnsemble({ extra: ['znode.container.checkIntervalMs=100'] });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const follower = ens.nodes.find((n) => n.id !== leader) as (typeof ens.nodes)[number];
  const all = ens.nodes.map((n) => n.id);

  t.equal((await req(`${follower.url}/v1/znodes/grp?container`, 'POST')).status, 201, 'container created through a follower');
  t.equal((await req(`${follower.url}/v1/znodes/grp/m`, 'POST')).status, 201);
  t.equal((await req(`${follower.url}/v1/znodes/ttl?ttl=300`, 'POST', 'x')).status, 201, 'TTL node created through a follower');
  // Kept while it has a child: checked on every member, after a few sweeps.
  await new Promise((r) => setTimeout(r, 500));
  for (const n of ens.nodes) t.equal((await req(`${n.url}/v1/znodes/grp?stat`)).status, 200, `member ${n.id} keeps the container with a child`);
  t.equal((await req(`${follower.url}/v1/znodes/grp/m`, 'DELETE')).status, 204);
  t.ok(await goneEverywhere(ens, all, '/grp'), 'the emptied container is gone on every member');
  t.ok(await goneEverywhere(ens, all, '/ttl'), 'the expired TTL node is gone on every member');

  await ens.kill(leader, 'SIGKILL');
  const rest = all.filter((id) => id !== leader);
  const next = await ens.waitForLeader(30000, rest);
  t.not(next, leader, 'a new leader');
  const via = ens.node(rest.find((id) => id !== next) as number);
  await retry(
    async () => (await req(`${via.url}/v1/znodes/grp2?container`, 'POST')).status,
    (s) => s === 201,
  );
  t.equal((await req(`${via.url}/v1/znodes/grp2/m`, 'POST')).status, 201);
  t.equal((await req(`${via.url}/v1/znodes/grp2/m`, 'DELETE')).status, 204);
  t.ok(await goneEverywhere(ens, rest, '/grp2'), 'the new leader reaps, and the remaining members see it');
});
