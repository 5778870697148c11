// A fault on a real 3-process ensemble (see the test name).
import t from 'tap';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startEnsemble } from '../helpers/ensemble.js';
import { emptyDataDir } from '../helpers/server.js';
import { req, retry } from './client.js';
import { zk } from '../cli/run.js';
import { converge } from './faults.js';

t.test('a member that lost its disk does not help elect a leader that lacks what it had acknowledged', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const [acker, late] = [1, 2, 3].filter((id) => id !== leader);
  // With `late` down, the write is committed by the leader and `acker` alone.
  await ens.kill(late);
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/acked`, 'POST', 'e')).status, 201, 'the write is acknowledged');
  await ens.kill(leader);
  await ens.kill(acker);
  // acker's disk is replaced: an empty dataDir with its myid, as an operator re-provisions a member.
  const dir = ens.node(acker).dataDir;
  emptyDataDir(dir);
  await ens.start(acker);
  t.match(ens.node(acker).child?.stdout() ?? '', /the consensus log is empty \(a new member, or one whose data was lost\)/, 'it logs why it will not vote');
  await ens.start(late);
  // late lacks the write and acker has nothing: if acker voted for late, the two would make a leader without it.
  let led: number | undefined;
  try {
    led = await ens.waitForLeader(5000, [acker, late]);
  } catch {
    led = undefined;
  }
  t.equal(led, undefined, 'no leader without the member that holds the write');
  const mark = join(dir, 'catching-up-from-empty');
  t.ok(existsSync(mark), 'the member that lost its disk marked that it started empty');
  t.match((await req(`${ens.node(acker).url}/v1/admin/cluster`)).body.voteLimit, /no leader has reached it yet: votes only for a candidate whose log is empty too/, 'its cluster view says how it limits its vote');
  t.match((await zk(['status', '--url', ens.node(acker).url])).stdout, /\nVote limited: started with an empty consensus log/, 'and so does zkgate status');
  await ens.kill(acker);
  await ens.start(acker);
  t.match(ens.node(acker).child?.stdout() ?? '', /restarted before catching up after starting with an empty consensus log/, 'a restart before catching up keeps it careful');
  await ens.start(leader);
  const again = await ens.waitForLeader(30000);
  t.ok(again > 0, `node ${again} leads once the member holding the write is back`);
  const lists = await converge(ens, '/');
  for (const [i, list] of lists.entries()) {
    t.ok(list.includes('acked'), `node ${i + 1} has the acknowledged write`);
    t.same(list, lists[0], `node ${i + 1}'s tree equals node 1's`);
  }
  const got = await req(`${ens.node(acker).url}/v1/znodes/acked`);
  t.equal(got.status, 200, 'the member that lost its disk has caught up');
  const said = ens.node(acker).child?.stdout() ?? '';
  t.match(said, /caught up with the leader after starting with an empty consensus log: votes again/, 'it logged that it votes again');
  t.notOk(existsSync(mark), 'and removed its mark');
  t.equal((await req(`${ens.node(acker).url}/v1/admin/cluster`)).body.voteLimit, null, 'its vote is no longer limited');
});

t.test("two disks lost of three: a copy of the survivor's dataDir lets the two elect a leader with its state", async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/kept`, 'POST', 'k')).status, 201, 'a write everyone has');
  await converge(ens, '/');
  const [survivor, replaced, gone] = [leader, ...[1, 2, 3].filter((id) => id !== leader)];
  for (const id of [1, 2, 3]) await ens.kill(id);
  // gone stays down for good; replaced gets a copy of the survivor's dataDir, keeping its own myid (docs/operations.md §2).
  const to = ens.node(replaced).dataDir;
  emptyDataDir(to);
  const from = ens.node(survivor).dataDir;
  for (const f of readdirSync(from)) if (f !== 'myid' && f !== 'zkgate.pid') cpSync(join(from, f), join(to, f), { recursive: true });
  await ens.start(survivor);
  await ens.start(replaced);
  const led = await ens.waitForLeader(30000, [survivor, replaced]);
  t.ok([survivor, replaced].includes(led), `node ${led} leads without node ${gone}`);
  const w = await req(`${ens.node(led).url}/v1/znodes/after`, 'POST', 'a');
  t.equal(w.status, 201, 'and takes writes');
  for (const id of [survivor, replaced]) {
    const r = await req(`${ens.node(id).url}/v1/znodes/kept`, 'GET', undefined, { 'ZK-Min-Zxid': w.headers.get('zk-zxid') ?? '0' });
    t.equal(r.status, 200, `node ${id} has the earlier write`);
  }
});

t.test('a follower that lost its disk catches up under the same leader', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const url = ens.node(leader).url;
  for (let i = 0; i < 20; i++) t.equal((await req(`${url}/v1/znodes/f${i}`, 'POST', `v${i}`)).status, 201, `write ${i}`, { diagnostic: false });
  const follower = [1, 2, 3].find((id) => id !== leader) as number;
  await converge(ens, '/');
  await ens.kill(follower);
  emptyDataDir(ens.node(follower).dataDir);
  await ens.start(follower);
  // The leader acknowledged 20 writes from it: its old position must not hold the catch-up back.
  const w = await req(`${url}/v1/znodes/after-wipe`, 'POST', 'x');
  t.equal(w.status, 201);
  // 503 while it catches up (a member serves no reads before it has); then the write from before the loss.
  const read = () => req(`${ens.node(follower).url}/v1/znodes/f0`, 'GET', undefined, { 'ZK-Min-Zxid': w.headers.get('zk-zxid') ?? '0' });
  const got = await retry(read, (r) => r.status !== 503, 20000);
  t.equal(got.status, 200, 'the follower has the writes from before its disk was lost');
  t.equal((await ens.waitForLeader()), leader, 'under the same leader');
  t.equal((await req(`${ens.node(follower).url}/v1/admin/cluster`)).body.voteLimit, null, 'and votes as any member again');
});

t.test("a follower's disk replaced while the ensemble takes no writes: it catches up, and a graceful stop of the leader leaves a leader", async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/idle`, 'POST', 'i')).status, 201);
  await converge(ens, '/');
  const replaced = [1, 2, 3].find((id) => id !== leader) as number;
  await ens.kill(replaced);
  emptyDataDir(ens.node(replaced).dataDir);
  await ens.start(replaced);
  // No write from here on: the leader hears the member only through heartbeats.
  const got = await retry(() => req(`${ens.node(replaced).url}/v1/znodes/idle`), (r) => r.status === 200, 30000);
  t.equal(got.status, 200, 'the member that lost its disk has the data again');
  await retry(async () => ens.node(replaced).child?.stdout() ?? '', (s) => s.includes('caught up with the leader after starting with an empty consensus log'), 20000);
  t.pass('and votes again');
  const view = (await req(`${ens.node(leader).url}/v1/admin/cluster`)).body as { members: { id: number; appliedZxid: string }[] };
  const mine = (await req(`${ens.node(replaced).url}/v1/admin/srvr`)).body as { zxid?: string };
  t.equal(view.members.find((m) => m.id === replaced)?.appliedZxid, String(mine.zxid ?? view.members.find((m) => m.id === leader)?.appliedZxid), "the leader's view of it is what it holds");
  await ens.kill(leader, 'SIGTERM');
  const next = await ens.waitForLeader(30000, [1, 2, 3].filter((id) => id !== leader));
  t.equal((await req(`${ens.node(next).url}/v1/znodes/after`, 'POST', 'a')).status, 201, 'the two left elect a leader and take writes');
});
