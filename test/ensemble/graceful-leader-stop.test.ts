// A leader stopped gracefully (SIGTERM) hands its leadership to another voter before it goes, as etcd does, so the
// others need no election timeout: the one it named leads next, and no other member stands for election. Writes
// through the followers meanwhile all succeed: one the leader refuses while it hands over is placed again.
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { req, retry } from './client.js';

t.test('SIGTERM on the leader hands leadership to a follower, which leads next with every acknowledged write', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const old = ens.node(leader);
  const termBefore = Number((await req(`${old.url}/v1/admin/cluster`)).body.term);
  for (let i = 0; i < 50; i++) {
    const r = await req(`${old.url}/v1/znodes/w${i}`, 'POST', String(i));
    if (r.status !== 201) throw new Error(`write ${i}: ${r.status}`);
  }
  // Writers through the two followers throughout: the handover must not show in their answers.
  const others = ens.nodes.filter((n) => n.id !== leader);
  const statuses: number[] = [];
  let writing = true;
  const writers = others.flatMap((n, k) =>
    [0, 1].map(async (w) => {
      for (let i = 0; writing; i++) statuses.push((await req(`${n.url}/v1/znodes/g${k}-${w}-${i}`, 'POST', 'x')).status);
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  // Each follower's log so far: the first election (either may have stood in it) is not the handover's.
  const logged = new Map(others.map((n) => [n.id, n.child?.stdout().length ?? 0]));
  const child = old.child;
  await ens.kill(leader, 'SIGTERM');
  t.equal((await child?.exited)?.code, 0, 'the leader stops cleanly');
  const before = statuses.length;
  while (statuses.length < before + 50) await new Promise((r) => setTimeout(r, 20));
  writing = false;
  await Promise.all(writers);
  const failed = statuses.filter((s) => s !== 201);
  t.same(failed, [], `every write through a follower succeeded across the handover (${statuses.length} writes)`);
  const named = /"msg":"stopping: handing leadership over to (\d+)"/.exec(child?.stdout() ?? '');
  t.ok(named, 'it names the voter it hands leadership to');
  t.match(child?.stdout(), /"msg":"stopping: leadership handed over"/, 'and says the handover completed before it stopped');

  const next = await ens.waitForLeader(15000, others.map((n) => n.id));
  t.equal(next, Number(named?.[1]), 'that voter is the new leader');
  const cluster = await req(`${ens.node(next).url}/v1/admin/cluster`);
  t.equal(Number(cluster.body.term), termBefore + 1, 'one term later: a single election, the one it was handed');
  const bystander = others.find((n) => n.id !== next);
  t.notMatch(bystander?.child?.stdout().slice(logged.get(bystander.id)), /"role":"(pre)?candidate"/, 'the other follower never stood for election');
  for (const n of others) {
    const count = (r: { body: Record<string, unknown> }, p: string) => ((r.body.children as string[] | undefined) ?? []).filter((c) => c.startsWith(p)).length;
    const acked = statuses.filter((x) => x === 201).length;
    const kids = await retry(() => req(`${n.url}/v1/znodes/?children`), (r) => count(r, 'w') >= 50 && count(r, 'g') >= acked);
    t.equal(count(kids, 'w'), 50, `every write acknowledged before the stop is on member ${n.id}`);
    t.equal(count(kids, 'g'), acked, `and every one acknowledged across it`);
  }
  t.equal((await req(`${ens.node(next).url}/v1/znodes/after`, 'POST', 'x')).status, 201, 'the new leader takes writes');
  await ens.start(leader);
  const back = await retry(() => req(`${old.url}/v1/znodes/after`), (r) => r.status === 200, 20000);
  t.equal(back.status, 200, 'the stopped member rejoins and catches up');
});
