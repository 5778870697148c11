// An observer that can no longer hear a leader says so (status, srvr, metrics, cluster), and says observer again
// once a leader is back: a learner never campaigns, so nothing but silence can tell it its leader is gone.
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { zk } from '../cli/run.js';
import { req, retry } from './client.js';

async function roleGauge(url: string, role: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`zkgate_role{role="${role}"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

t.test('with both voting followers killed, the observer reports looking and no leader; it is an observer again once they return', async (t) => {
  const ens = await startEnsemble({ size: 4, observers: [4] });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const obs = ens.node(4);
  await retry(() => req(`${obs.url}/v1/admin/srvr`), (r) => r.body.mode === 'observer');
  const followers = ens.nodes.filter((n) => n.id !== leader && n.id !== 4).map((n) => n.id);
  for (const id of followers) await ens.kill(id);

  const looking = await retry(() => req(`${obs.url}/v1/admin/srvr`), (r) => r.body.mode === 'looking', 15000);
  t.equal(looking.body.mode, 'looking', 'srvr on the observer says looking once the leader steps down');
  const status = await zk(['status', '--url', obs.url]);
  t.match(status.stdout, /\nMode: looking\n/, 'zkgate status prints Mode: looking (then a line per unlinked peer)');
  t.equal(status.code, 1, 'and exits 1');
  t.equal(await roleGauge(obs.url, 'looking'), 1, 'zkgate_role{role="looking"} is 1');
  t.equal(await roleGauge(obs.url, 'observer'), 0, 'zkgate_role{role="observer"} is 0');
  const cluster = await req(`${obs.url}/v1/admin/cluster`);
  t.equal(cluster.body.leader, null, 'the cluster view names no leader');
  const me = (cluster.body.members as { id: number; role: string }[]).find((m) => m.id === 4);
  t.equal(me?.role, 'looking', 'and lists the observer itself as looking');
  const others = (cluster.body.members as { id: number; role: string }[]).filter((m) => m.id !== 4);
  t.same(others.map((m) => m.role), ['unknown', 'unknown', 'unknown'], 'and the others as unknown: it cannot tell their roles');
  t.equal((await req(`${obs.url}/v1/znodes/`)).status, 200, 'plain reads are still served');

  for (const id of followers) await ens.start(id);
  await ens.waitForLeader();
  const back = await retry(() => req(`${obs.url}/v1/admin/srvr`), (r) => r.body.mode === 'observer', 20000);
  t.equal(back.body.mode, 'observer', 'srvr says observer again once a leader is heard');
  const again = await zk(['status', '--url', obs.url]);
  t.match(again.stdout, /\nMode: observer\n$/);
  t.equal(again.code, 0);
  t.equal(await roleGauge(obs.url, 'observer'), 1);
  t.type((await req(`${obs.url}/v1/admin/cluster`)).body.leader, 'number', 'the cluster view names the leader again');
  const roles = (obs.child?.stdout() ?? '').split('\n').filter((l) => l.includes('consensus role changed'));
  t.ok(roles.some((l) => l.includes('"role":"observer"')), 'its log calls the role observer');
  t.notOk(roles.some((l) => l.includes('"role":"learner"')), 'never learner');
});
