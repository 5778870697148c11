// Leader election converges to exactly one leader: LeaderLatch across clients as candidates close, sessions end and
// candidates join late; and the HTTP campaign/leader/resign endpoints.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { LeaderLatch, ZkClient } from '../../client/index.js';
import { clients, closeAll, eventually } from '../client/fixtures.js';

const SHORT = { tickTime: 100, minSessionTimeout: 400, maxSessionTimeout: 30000 };

t.test('LeaderLatch closed while it starts leaves no candidate behind: the next one leads', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const [a, b] = await clients(2, s.url);
  t.teardown(() => closeAll([a as ZkClient, b as ZkClient]));
  const early = new LeaderLatch(a as ZkClient, '/election/closing', 'early');
  const started = early.start();
  await early.close();
  t.same((await (a as ZkClient).getChildren('/election/closing')).children, [], 'close() waited for the node start() was creating, and deleted it');
  await started;
  t.equal(early.state, 'closed');
  t.notOk(early.hasLeadership());
  const real = new LeaderLatch(b as ZkClient, '/election/closing', 'real');
  await real.start();
  t.ok(await real.await(5000), 'a later candidate leads');
  t.same(await real.getLeader().then((l) => l?.id), 'real');
  await real.close();
});

t.test('a LeaderLatch closed as it becomes leader never says isLeader after close() began, nor claims leadership after', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const [a, b] = (await clients(2, s.url)) as ZkClient[];
  t.teardown(() => closeAll([a as ZkClient, b as ZkClient]));
  // The predecessor resigns and, a few ms later, the next candidate closes: its run loop may be between reading the
  // candidates and arming its watch, where it found itself first (the hunt saw 8 to 10 rounds in 40 go wrong).
  let wrong = 0;
  for (let round = 0; round < 40; round++) {
    const path = `/election/close-race-${round}`;
    const first = new LeaderLatch(a as ZkClient, path, 'first');
    await first.start();
    t.ok(await first.await(5000), `round ${round}: the first leads`);
    const closing = new LeaderLatch(b as ZkClient, path, 'closing');
    await closing.start();
    const last = new LeaderLatch(a as ZkClient, path, 'last');
    await last.start();
    let closeBegun = false;
    let late = 0;
    closing.on('isLeader', () => {
      if (closeBegun) late++;
    });
    const resigned = first.close();
    await new Promise((r) => setTimeout(r, round % 20));
    closeBegun = true;
    await closing.close();
    await resigned;
    t.ok(await last.await(5000), `round ${round}: the last candidate leads`);
    if (late > 0 || closing.hasLeadership()) wrong++;
    await last.close();
  }
  t.equal(wrong, 0, 'no round had a closed latch saying isLeader or holding leadership');
});

t.test('LeaderLatch.await(ms) that times out leaves no listener behind', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const [a, b] = (await clients(2, s.url)) as ZkClient[];
  t.teardown(() => closeAll([a as ZkClient, b as ZkClient]));
  const leader = new LeaderLatch(a as ZkClient, '/election/await-leak', 'leader');
  await leader.start();
  t.ok(await leader.await(5000));
  const waiting = new LeaderLatch(b as ZkClient, '/election/await-leak', 'waiting');
  await waiting.start();
  for (let i = 0; i < 50; i++) t.equal(await waiting.await(1), false);
  t.equal(waiting.listenerCount('isLeader'), 0, 'isLeader listeners');
  t.equal(waiting.listenerCount('closed'), 0, 'closed listeners');
  await waiting.close();
  await leader.close();
});

t.test('LeaderLatch: one leader at a time, and a new one whenever the leader leaves or its session ends', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const cs = await clients(5, s.url);
  t.teardown(() => closeAll(cs));
  const latches = cs.map((c, i) => new LeaderLatch(c, '/election/svc', `cand-${i}`));
  // Every leadership change any latch reports, in order: at no point may two latches both claim it.
  let claiming = 0;
  let maxClaiming = 0;
  for (const l of latches) {
    l.on('isLeader', () => (maxClaiming = Math.max(maxClaiming, ++claiming)));
    l.on('notLeader', () => claiming--);
  }
  await Promise.all(latches.map((l) => l.start()));
  const leaders = () => latches.filter((l) => l.hasLeadership());
  await eventually(() => leaders().length, (n) => n === 1);
  t.equal(leaders().length, 1, 'one leader among five candidates');
  t.equal(latches[0]?.hasLeadership(), true, 'the first to join leads');
  t.same(await latches[3]?.getLeader().then((l) => l?.id), 'cand-0', 'every candidate can see who leads');

  await latches[0]?.close();
  await eventually(() => leaders().length === 1 && !latches[0]?.hasLeadership(), (ok) => ok);
  t.equal(leaders()[0], latches[1], 'the next candidate took over when the leader closed');

  // The leader's session ends (closed from elsewhere, as an expiry would): its node goes and the next one leads.
  const admin = cs[4] as ZkClient;
  await admin.closeSession((cs[1] as ZkClient).sessionId as string);
  await eventually(() => leaders().length === 1 && leaders()[0] === latches[2], (ok) => ok);
  t.equal(leaders()[0], latches[2], "the leader's session ended: the next candidate leads");
  t.equal(latches[1]?.state, 'closed', 'the latch of the ended session reports closed');

  // A candidate in the middle leaves: its successor re-targets its watch, and leadership does not move.
  await latches[3]?.close();
  t.equal(leaders()[0], latches[2]);
  await latches[2]?.close();
  await eventually(() => leaders()[0] === latches[4], (ok) => ok);
  t.equal(leaders().length, 1, 'the last candidate leads');
  t.equal(maxClaiming, 1, 'never two latches claiming leadership at once');
  t.ok(await latches[4]?.await(10), 'await resolves true for the leader');
});

t.test('HTTP election: campaign long-polls, leader shows the value, resign hands over', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const mk = async () => ((await (await fetch(`${s.url}/v1/sessions`, { method: 'POST' })).json()) as { sessionId: string }).sessionId;
  const [a, b] = [await mk(), await mk()];
  const campaign = (sid: string, value: string, wait = '') =>
    fetch(`${s.url}/v1/recipes/elections/sched/campaign${wait}`, { method: 'POST', headers: { 'ZK-Session': sid, 'Content-Type': 'text/plain' }, body: value }).then(
      async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }),
    );
  const won = await campaign(a, 'host-a:80');
  t.match(won, { status: 200, body: { leader: true, value: 'host-a:80', encoding: 'utf8' } });
  t.match(await campaign(b, 'host-b:80', '?wait=100ms'), { status: 202, body: { leader: false, position: 1 } });
  const leader = await fetch(`${s.url}/v1/recipes/elections/sched/leader`).then((r) => r.json());
  t.match(leader, { value: 'host-a:80', owner: a, key: won.body.key });
  const pending = campaign(b, 'host-b:80', '?wait=20s');
  await new Promise((r) => setTimeout(r, 100));
  t.equal((await fetch(`${s.url}/v1/recipes/elections/sched/resign`, { method: 'POST', headers: { 'ZK-Session': a } })).status, 204);
  t.match(await pending, { status: 200, body: { leader: true, value: 'host-b:80' } });
  t.match(await fetch(`${s.url}/v1/recipes/elections/sched/leader`).then((r) => r.json()), { value: 'host-b:80', owner: b });
  const again = await fetch(`${s.url}/v1/recipes/elections/sched/resign`, { method: 'POST', headers: { 'ZK-Session': a } });
  t.equal(again.status, 404, 'resigning without a candidacy is NoNode');
  await fetch(`${s.url}/v1/sessions/${b}`, { method: 'DELETE' });
  t.equal((await fetch(`${s.url}/v1/recipes/elections/sched/leader`)).status, 404, 'no candidates: no leader');
});
