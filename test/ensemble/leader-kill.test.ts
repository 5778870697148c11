// A fault on a real 3-process ensemble (see the test name).
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { req, retry } from './client.js';
import { converge, writers } from './faults.js';

t.test('kill -9 of the leader: a new leader takes over, writes resume, the old leader rejoins, nothing acknowledged is lost', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const first = await ens.waitForLeader();
  t.equal((await req(`${ens.node(first).url}/v1/znodes/acked`, 'POST')).status, 201);
  let alive = [1, 2, 3];
  const w = writers(ens, () => alive, 'a');
  await new Promise((r) => setTimeout(r, 1500));
  alive = alive.filter((id) => id !== first);
  w.markFault();
  await ens.kill(first, 'SIGKILL');
  const second = await ens.waitForLeader(30000, alive);
  t.not(second, first, `node ${second} leads after node ${first} was killed`);
  await retry(async () => w.gapMs(), (g) => g !== undefined, 20000);
  const gap = w.gapMs();
  t.ok(gap !== undefined, `writes resumed ${gap} ms after the leader was killed`);
  t.comment(`failover gap (leader SIGKILL → first acknowledged write): ${gap} ms`);
  type Member = { id: number; role: string; appliedZxid: string; lagEntries: number; connected: boolean };
  const view = await req(`${ens.node(second).url}/v1/admin/cluster`);
  const dead = (view.body.members as Member[]).find((m) => m.id === first);
  t.same(
    { appliedZxid: dead?.appliedZxid, lagEntries: dead?.lagEntries, connected: dead?.connected },
    { appliedZxid: 'unknown', lagEntries: -1, connected: false },
    "the new leader does not make up the dead member's position (nothing acknowledged to it)",
  );
  await ens.start(first);
  alive = [1, 2, 3];
  await new Promise((r) => setTimeout(r, 1000));
  await w.stop();
  t.ok(w.acked.size > 10, `${w.acked.size} writes acknowledged`);
  const lists = await converge(ens, '/acked');
  for (const [i, list] of lists.entries()) {
    const missing = [...w.acked].filter((a) => !list.includes(a));
    t.same(missing, [], `node ${i + 1} has every acknowledged write`);
    t.same(list, lists[0], `node ${i + 1}'s tree equals node 1's`);
  }
});
