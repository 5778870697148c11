// Recipes across a leader failover in a real 3-process ensemble: the mutex never has two holders and the counter it
// guards loses nothing, a watch re-arms on another node and sees what changed meanwhile (single system image), and
// leader election converges to one leader again.
import t, { type Test } from 'tap';
import { startEnsemble, type Ensemble } from '../helpers/ensemble.js';
import { LeaderLatch, Mutex, ZkClient, isZkError, type WatchedEvent } from '../../client/index.js';
import { closeAll, eventually } from '../client/fixtures.js';

/**
 * Increments `/counter` by one with CAS while holding the lock. A ConnectionLoss leaves the outcome unknown: the
 * write may still commit later, so the state is re-read after a sync, and a retry's BadVersion is checked the same
 * way (it may be our own earlier attempt landing first). Returns false only for a BadVersion that is not ours —
 * another holder wrote inside the lock; a mistaken "ours" would still show in the final counter check.
 */
async function increment(c: ZkClient): Promise<boolean> {
  const r = await c.getString('/counter');
  const ours = async (): Promise<boolean | undefined> => {
    await c.waitConnected().catch(() => {});
    await c.sync();
    const now = await c.getString('/counter');
    if (now.stat.version === r.stat.version + 1 && Number(now.data) === Number(r.data) + 1) return true;
    if (now.stat.version !== r.stat.version) return false;
    return undefined;
  };
  let ambiguous = false;
  for (;;) {
    try {
      await c.setData('/counter', String(Number(r.data) + 1), r.stat.version);
      return true;
    } catch (e) {
      if (isZkError(e, 'BadVersion')) return ambiguous ? ((await ours()) ?? false) : false;
      if (!isZkError(e, 'ConnectionLoss')) throw e;
      ambiguous = true;
      const verdict = await ours();
      if (verdict !== undefined) return verdict;
    }
  }
}

/** Past this after the new leader's election, the contention is taken to be stalled and described (the test goes on). */
const STALL_MS = 45000;

/**
 * Where a stalled contention stands: each client's session and server, the lock's queue with each node's owning
 * session (an orphan is a node of a live session that no contender is waiting on), and each member's last log lines.
 */
async function describeStall(t: Test, ens: Ensemble, cs: ZkClient[], progress: object): Promise<void> {
  const lines = [`contention still running ${STALL_MS} ms after the new leader was elected: ${JSON.stringify(progress)}`];
  cs.forEach((c, i) => lines.push(`client ${i}: session ${c.sessionId} on ${c.conn.server} (${c.state})`));
  const live = ens.nodes.filter((n) => n.child);
  for (const n of live) {
    try {
      const r = await fetch(`${n.url}/v1/znodes/locks/failover?children`, { signal: AbortSignal.timeout(2000) });
      const { children = [] } = (await r.json()) as { children?: string[] };
      const owners = await Promise.all(
        children.map(async (k) => {
          const st = await fetch(`${n.url}/v1/znodes/locks/failover/${k}?stat`, { signal: AbortSignal.timeout(2000) });
          return `${k} owner ${st.ok ? ((await st.json()) as { stat: { ephemeralOwner: string } }).stat.ephemeralOwner : st.status}`;
        }),
      );
      lines.push(`node ${n.id} lists /locks/failover: ${owners.join(', ') || '(empty)'}`);
    } catch (e) {
      lines.push(`node ${n.id}: ${(e as Error).message}`);
    }
  }
  for (const n of live) lines.push(`node ${n.id} log tail:`, ...(n.child?.stdout().trim().split('\n').slice(-15) ?? []));
  t.comment(lines.join('\n'));
}

t.test('across a leader failover: one mutex holder at a time, watches re-armed elsewhere, one elected leader', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leaderId = await ens.waitForLeader(90000);
  const urls = ens.nodes.map((n) => n.url);
  const leaderUrl = ens.node(leaderId).url;
  const opts = { sessionTimeoutMs: 10000, requestTimeoutMs: 4000, maxRetries: 40, retryMaxMs: 500 };
  const cs = await Promise.all([0, 1, 2, 3].map(() => ZkClient.connect({ servers: urls, ...opts })));
  // This one is connected to the leader that will die.
  const watcher = await ZkClient.connect({ servers: [leaderUrl, ...urls.filter((u) => u !== leaderUrl)], ordered: true, ...opts });
  t.teardown(() => closeAll([...cs, watcher]));
  t.equal(watcher.conn.server, leaderUrl);
  await (cs[0] as ZkClient).create('/counter', '0');
  await (cs[0] as ZkClient).create('/cfg', 'v1');
  // Another client's create may be answered by a follower that applied it before the leader did (the commit index
  // reaches followers while the leader applies): the watcher, a different client, syncs first, as ZooKeeper's
  // ordering rule asks (CI saw NoNode here once).
  await watcher.sync();
  const dataEvents: WatchedEvent[] = [];
  await watcher.watch('/cfg', 'data', (e) => dataEvents.push(e));
  const treeEvents: WatchedEvent[] = [];
  await watcher.watch('/cfg', 'persistentRecursive', (e) => treeEvents.push(e));

  const latches = cs.slice(0, 3).map((c, i) => new LeaderLatch(c, '/election', `cand-${i}`));
  await Promise.all(latches.map((l) => l.start()));
  await eventually(() => latches.filter((l) => l.hasLeadership()).length, (n) => n === 1, 60000);

  const holders = new Set<number>();
  let maxHolders = 0;
  let grants = 0;
  let grantsAfterKill = 0;
  let killed = false;
  let casConflicts = 0;
  const target = 16;
  const contend = async (c: ZkClient, i: number) => {
    const m = new Mutex(c, '/locks/failover');
    while (grants < target || grantsAfterKill < 4) {
      if (!(await m.acquire(120000))) throw new Error(`client ${i} could not acquire within 120 s`);
      holders.add(i);
      maxHolders = Math.max(maxHolders, holders.size);
      grants++;
      if (killed) grantsAfterKill++;
      if (!(await increment(c))) casConflicts++;
      holders.delete(i);
      await m.release();
    }
  };
  const running = cs.map((c, i) => contend(c, i));
  await eventually(() => grants, (g) => g >= 5, 60000);
  killed = true;
  const t0 = Date.now();
  await ens.kill(leaderId, 'SIGKILL');
  const others = ens.nodes.map((n) => n.id).filter((id) => id !== leaderId);
  const newLeader = await ens.waitForLeader(90000, others);
  t.comment(`node ${newLeader} leads ${Date.now() - t0} ms after node ${leaderId} was killed`);
  // CI once saw the contenders stall here until tap's timeout, with nothing to go on. The contention takes a few
  // seconds once a leader is back; if it runs past STALL_MS, say where it stands before the timeout ends the test.
  const stall = setTimeout(() => void describeStall(t, ens, cs, { grants, grantsAfterKill, holders: [...holders] }), STALL_MS);
  await Promise.all(running).finally(() => clearTimeout(stall));

  t.equal(maxHolders, 1, 'the mutex never had two holders, before, during or after the failover');
  t.ok(grantsAfterKill >= 4, `${grantsAfterKill} acquisitions after the leader was killed`);
  t.equal(casConflicts, 0, 'no write inside the lock ever raced another holder');
  t.equal(Number((await (cs[0] as ZkClient).getString('/counter')).data), grants, `the counter equals the ${grants} acquisitions`);

  // The watcher lost its node; a change made elsewhere meanwhile must reach it once it re-arms with sinceZxid.
  const writer = cs[1] as ZkClient;
  await writer.setData('/cfg', 'v2');
  await writer.create('/cfg/added', 'x');
  await eventually(() => dataEvents.length + treeEvents.length, (n) => n >= 3, 60000);
  t.not(watcher.conn.server, leaderUrl, 'the watcher moved to a live node');
  t.equal(watcher.state, 'SyncConnected');
  t.same(dataEvents.map((e) => e.type), ['NodeDataChanged'], 'the one-shot data watch fired after the failover');
  t.same(treeEvents.map((e) => `${e.type} ${e.path}`), ['NodeDataChanged /cfg', 'NodeCreated /cfg/added']);
  t.ok(watcher.lastZxid >= Number(treeEvents[1]?.zxid), 'the watcher has seen the zxid of the last event');
  t.equal((await watcher.getString('/cfg')).data, 'v2', 'a read after the events never shows an older state');

  await eventually(() => latches.filter((l) => l.hasLeadership()).length, (n) => n === 1, 60000);
  t.equal(latches.filter((l) => l.hasLeadership()).length, 1, 'the election converged to one leader after the failover');
  const leading = latches.find((l) => l.hasLeadership()) as LeaderLatch;
  await leading.close();
  await eventually(() => latches.filter((l) => l.hasLeadership()).length, (n) => n === 1, 20000);
  t.equal(latches.filter((l) => l.hasLeadership()).length, 1, 'and again after its leader resigned');
  t.notOk(leading.hasLeadership());
});
