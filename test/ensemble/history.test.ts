// A fault on a real 3-process ensemble (see the test name): two of three members lose their disks while the third is
// down, and the two start an ensemble of their own (core/history.ts).
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { emptyDataDir } from '../helpers/server.js';
import { req } from './client.js';
import { zk } from '../cli/run.js';
import { converge } from './faults.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a member that kept its data refuses the history two emptied members started without it, and says so', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/old`, 'POST', 'o')).status, 201, 'a write every member has');
  await converge(ens, '/');
  const histories = await Promise.all([1, 2, 3].map(async (id) => (await req(`${ens.node(id).url}/v1/admin/cluster`)).body.history as string | null));
  t.match(histories[0], /^[0-9a-f]{13}$/, 'the cluster view names the history');
  t.same(histories, [histories[0], histories[0], histories[0]], 'one history on every member');

  const keeper = leader;
  const [a, b] = [1, 2, 3].filter((id) => id !== keeper) as [number, number];
  for (const id of [1, 2, 3]) await ens.kill(id);
  emptyDataDir(ens.node(a).dataDir);
  emptyDataDir(ens.node(b).dataDir);
  await ens.start(a);
  await ens.start(b);
  const led = await ens.waitForLeader(30000, [a, b]);
  t.equal((await req(`${ens.node(led).url}/v1/znodes/new`, 'POST', 'n')).status, 201, 'the two emptied members elect a leader and take writes');
  const fresh = (await req(`${ens.node(led).url}/v1/admin/cluster`)).body.history as string;
  t.match(fresh, /^[0-9a-f]{13}$/);
  t.not(fresh, histories[0], 'theirs is another history');

  await ens.start(keeper);
  let view: { leaderRefusal?: string | null; leader?: number | null } = {};
  for (let i = 0; i < 150 && typeof view.leaderRefusal !== 'string'; i++) {
    await sleep(100);
    view = (await req(`${ens.node(keeper).url}/v1/admin/cluster`)).body;
  }
  t.match(view.leaderRefusal, new RegExp(`its log belongs to another history \\(${fresh}; this member's is ${histories[0]}\\)`), 'the keeper refuses their leader, naming both histories');
  t.equal(view.leader, null, 'and follows no leader');
  await sleep(2000);
  const back = await req(`${ens.node(keeper).url}/v1/znodes/new`, 'HEAD');
  t.not(back.status, 200, "none of the other history's writes reach the keeper");
  t.match(ens.node(keeper).child?.stdout() ?? '', /refusing to follow member \d \(term \d+\): its log belongs to another history/, 'it logs why');
  t.match((await zk(['status', '--url', ens.node(keeper).url])).stdout, /\nLeader refused: refusing to follow member \d+ \(term \d+\): its log belongs to another history/, 'zkgate status says so');
  const led2 = await ens.waitForLeader(30000, [a, b]);
  t.equal((await req(`${ens.node(led2).url}/v1/znodes/after`, 'POST', 'x')).status, 201, 'the two go on taking writes with the keeper back');
  const old = await req(`${ens.node(led2).url}/v1/znodes/old`, 'HEAD');
  t.equal(old.status, 404, "and the keeper's data does not reach them either");
});
