// ZooKeeper's timeliness guarantee: a client's view is up to date within a time bound, or the client learns of the
// outage. A member that has known no leader for longer than syncLimit × tickTime (tickTime=500, syncLimit=5 here:
// 2.5 s) refuses every read, and drops its WebSockets, until it rejoins a quorum; readonlymode.enabled keeps serving.
import t from 'tap';
import { startEnsemble, type Ensemble } from '../helpers/ensemble.js';
import { WatchClient } from '../watches/client.js';
import { req, retry, type Res } from './client.js';
import { zk } from '../cli/run.js';

const BOUND_MS = 5 * 500;

/** The reads a client can make, each by a different route (the fast path first: its answer is cached). */
function reads(url: string): Record<string, () => Promise<Res>> {
  return {
    'getData (cached fast path)': () => req(`${url}/v1/znodes/cut`),
    children: () => req(`${url}/v1/znodes/?children`),
    stat: () => req(`${url}/v1/znodes/cut?stat`),
    'blocking read': () => req(`${url}/v1/znodes/cut?wait=30s&index=999999999`),
    multiRead: () => req(`${url}/v1/multi`, 'POST', JSON.stringify({ ops: [{ op: 'get', path: '/cut' }] }), { 'content-type': 'application/json' }),
    acl: () => req(`${url}/v1/acl/cut`),
    'ZK-Min-Zxid ahead of it': () => req(`${url}/v1/znodes/cut`, 'GET', undefined, { 'zk-min-zxid': '999999999' }),
  };
}

async function loneFollower(ens: Ensemble) {
  const leader = await ens.waitForLeader();
  const c = await req(`${ens.node(leader).url}/v1/znodes/cut`, 'POST', 'v1');
  if (c.status !== 201) throw new Error(`create /cut: ${c.status}`);
  const [lone, ...others] = ens.nodes.filter((n) => n.id !== leader);
  if (!lone) throw new Error('a 3-node ensemble has two followers');
  await retry(() => req(`${lone.url}/v1/znodes/cut`), (r) => r.status === 200);
  await req(`${lone.url}/v1/znodes/cut`); // the second read is a cache hit on the fast path
  return { lone, rest: [leader, ...others.map((n) => n.id)] };
}

t.test('a member cut off from its leader for longer than syncLimit × tickTime refuses reads with 503 and closes its WebSockets; it serves again once it rejoins', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const { lone, rest } = await loneFollower(ens);
  const ws = await WatchClient.open(lone.url);
  t.teardown(() => ws.close());
  t.equal((await ws.watch('/cut', 'data')).ok, true, 'a watch is armed on the follower');

  const killedAt = Date.now();
  for (const id of rest) await ens.kill(id);
  await retry(() => req(`${lone.url}/v1/admin/srvr`), (r) => r.body.mode === 'looking', 15000);
  const early = await req(`${lone.url}/v1/znodes/cut`);
  if (Date.now() - killedAt < BOUND_MS) t.equal(early.status, 200, 'within the bound, reads are still served (a leader election is not an outage)');

  const refused = await retry(() => req(`${lone.url}/v1/znodes/cut`), (r) => r.status === 503, 15000);
  const refusedAt = Date.now();
  t.equal(refused.status, 503, 'past the bound a read is 503');
  t.ok(refusedAt - killedAt >= BOUND_MS, `not before syncLimit × tickTime without a leader (${refusedAt - killedAt} ms after the kill)`);
  t.equal(refused.body.error, 'ConnectionLoss');
  t.equal(refused.body.code, -4);
  t.ok(refused.headers.get('retry-after'), 'with Retry-After');
  t.match(refused.body.message, /known no leader for \d+ ms .*syncLimit × tickTime \(2500 ms\)/, 'saying why, with the bound');
  for (const [name, read] of Object.entries(reads(lone.url))) {
    const t0 = Date.now();
    const r = await read();
    t.equal(r.status, 503, `${name}: 503`);
    t.equal(r.body.error, 'ConnectionLoss', `${name}: ConnectionLoss`);
    t.match(r.body.message, /^this node has known no leader for \d+ ms/, `${name}: saying why (not, say, a wait that ran out)`);
    t.ok(Date.now() - t0 < 10000, `${name}: answered at once, not after a wait`);
  }
  t.ok(await ws.until(() => ws.closed !== undefined, 5000), 'the watching WebSocket is closed, so its client moves to another server');
  t.equal(ws.closed?.code, 1013);
  t.match(ws.closed?.reason, /syncLimit × tickTime/);
  const srvr = await req(`${lone.url}/v1/admin/srvr`);
  t.equal(srvr.status, 200, 'admin reads still answer');
  t.equal(srvr.body.mode, 'looking');
  t.match((await req(`${lone.url}/v1/admin/cluster`)).body.readRefusal, /^this node has known no leader for \d+ ms/, "the cluster view says why it refuses reads");
  t.match((await zk(['status', '--url', lone.url])).stdout, /\nMode: looking\n(Unlinked peer: .*\n)*Reads refused: this node has known no leader for \d+ ms/, 'and so does zkgate status');
  const notReady = await req(`${lone.url}/v1/admin/ready`);
  t.equal(notReady.status, 503, 'ready: 503');
  t.match(notReady.body.message, /knows no leader \(looking\)/, 'ready says why');

  for (const id of rest) await ens.start(id);
  await ens.waitForLeader();
  const back = await retry(() => req(`${lone.url}/v1/znodes/cut`), (r) => r.status === 200, 30000);
  t.equal(back.status, 200, 'once it hears a leader again it serves reads');
  t.equal(back.body.data, 'v1');
  t.equal((await req(`${lone.url}/v1/admin/cluster`)).body.readRefusal, null, 'and its cluster view says nothing is refused');
  const status = await zk(['status', '--url', lone.url]);
  t.notMatch(status.stdout, 'Reads refused', 'nor does zkgate status');
  t.equal(status.code, 0, 'which exits 0');
  t.match((await req(`${lone.url}/v1/admin/ready`)).body, { ready: true, mode: /^(leader|follower)$/ }, 'and it is ready again');
});

t.test('a member that has known no leader since it started serves no reads', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const { lone, rest } = await loneFollower(ens);
  for (const id of rest) await ens.kill(id);
  await ens.kill(lone.id);
  await ens.start(lone.id);
  const r = await req(`${lone.url}/v1/znodes/cut`);
  t.equal(r.status, 503, 'its tree may be any age: 503');
  t.match(r.body.message, /known no leader since it started/);
  t.match((await req(`${lone.url}/v1/admin/cluster`)).body.readRefusal, /known no leader since it started/, 'the cluster view says why');
});

t.test('readonlymode.enabled: a member cut off from its leader goes on serving reads and keeps its WebSockets', async (t) => {
  const ens = await startEnsemble({ extra: ['readonlymode.enabled=true'] });
  t.teardown(() => ens.destroy());
  const { lone, rest } = await loneFollower(ens);
  const ws = await WatchClient.open(lone.url);
  t.teardown(() => ws.close());
  t.equal((await ws.watch('/cut', 'data')).ok, true);
  for (const id of rest) await ens.kill(id);
  await retry(() => req(`${lone.url}/v1/admin/srvr`), (r) => r.body.mode === 'looking', 15000);
  await new Promise((r) => setTimeout(r, BOUND_MS + 1000));
  for (const [name, read] of Object.entries(reads(lone.url))) {
    if (name === 'blocking read' || name.startsWith('ZK-Min-Zxid')) continue; // each waits for what cannot come
    t.equal((await read()).status, 200, `${name}: 200 past the bound`);
  }
  t.equal(ws.closed, undefined, 'the WebSocket stays open');
  const ready = await req(`${lone.url}/v1/admin/ready`);
  t.equal(ready.status, 503, 'but it is not ready: serving reads alone is not serving in a quorum');
  t.match(ready.body.message, /looking/);
  await ens.kill(lone.id);
  await ens.start(lone.id);
  t.equal((await req(`${lone.url}/v1/znodes/cut`)).status, 200, 'and a restarted member serves before it finds a leader');
});
