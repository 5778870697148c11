// A 3-node ensemble of real processes: writes through every node, sessions owned by the ensemble,
// linearizable reads and sync, and identical trees on every node.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { startEnsemble } from '../helpers/ensemble.js';
import { ZKGATE_BIN } from '../helpers/server.js';
import { children, req, retry } from './client.js';
import { untracked } from '../helpers/untracked.js';

t.test('three nodes elect one leader and replicate writes made through any node', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  // The others learn of the new leader from its first heartbeat; give them (bounded) time to.
  const modes = await retry(
    () => Promise.all(ens.nodes.map(async (n) => (await req(`${n.url}/v1/admin/srvr`)).body.mode)),
    (ms) => ms.filter((m) => m === 'follower').length === 2,
  );
  t.same(modes.filter((m) => m === 'leader').length, 1, 'exactly one leader');
  // zkServer.sh status's counterpart reports each member's role and exits 0.
  for (const [i, n] of ens.nodes.entries()) {
    const r = spawnSync(...untracked(process.execPath, [ZKGATE_BIN, 'status', '--url', n.url]), { encoding: 'utf8', timeout: 30000 });
    t.equal(r.status, 0, `zkgate status exits 0 on node ${n.id}`);
    t.match(r.stdout, new RegExp(`^Mode: ${modes[i]}$`, 'm'), `zkgate status prints Mode: ${modes[i]} for node ${n.id}`);
  }
  t.same(modes.filter((m) => m === 'follower').length, 2, 'two followers');
  t.ok(leader >= 1 && leader <= 3);

  let last = '0';
  for (const n of ens.nodes) {
    const r = await req(`${n.url}/v1/znodes/w${n.id}`, 'POST', `from ${n.id}`);
    t.equal(r.status, 201, `create through node ${n.id}`);
    // The node that took the write answers only after applying it, so its next read sees it.
    const own = await req(`${n.url}/v1/znodes/w${n.id}`);
    t.equal(own.body.data, `from ${n.id}`, `node ${n.id} reads its own write at once`);
    last = r.headers.get('zk-zxid') ?? last;
  }
  for (const n of ens.nodes) {
    t.same(await children(n.url, '/', last), ['w1', 'w2', 'w3', 'zookeeper'], `node ${n.id} has every write`);
  }
});

t.test('sessions belong to the ensemble: created on one node, used on another, closed on a third', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  await ens.waitForLeader();
  const [a, b, c] = ens.nodes as [typeof ens.nodes[0], typeof ens.nodes[0], typeof ens.nodes[0]];
  const s = await req(`${a.url}/v1/sessions`, 'POST', JSON.stringify({ timeoutMs: 10000 }), { 'content-type': 'application/json' });
  t.equal(s.status, 201);
  const sid = s.body.sessionId as string;
  const sessionOnB = await retry(() => req(`${b.url}/v1/sessions/${sid}`), (r) => r.status === 200);
  t.equal(sessionOnB.status, 200, 'the session is known on another node');
  const e = await req(`${b.url}/v1/znodes/eph?ephemeral`, 'POST', 'x', { 'ZK-Session': sid });
  t.equal(e.status, 201, 'an ephemeral is created through another node');
  const info = await retry(() => req(`${c.url}/v1/sessions/${sid}`, 'GET', undefined, { 'ZK-Min-Zxid': e.headers.get('zk-zxid') ?? '0' }), (r) => r.status === 200);
  t.same(info.body.ephemerals, ['/eph'], 'a third node lists its ephemerals');
  const closed = await req(`${c.url}/v1/sessions/${sid}`, 'DELETE');
  t.equal(closed.status, 204);
  const z = closed.headers.get('zk-zxid') ?? '0';
  for (const n of ens.nodes) {
    const r = await req(`${n.url}/v1/znodes/eph`, 'GET', undefined, { 'ZK-Min-Zxid': z });
    t.equal(r.status, 404, `the ephemeral is gone on node ${n.id}`);
  }
});

t.test('linearizable reads and sync on a follower see a write made on another node', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const followers = ens.nodes.filter((n) => n.id !== leader);
  const [f1, f2] = followers as [typeof followers[0], typeof followers[0]];
  t.equal((await req(`${f1.url}/v1/znodes/lin`, 'POST', 'v1')).status, 201);
  t.equal((await req(`${f1.url}/v1/znodes/lin`, 'PUT', 'v2')).status, 200);
  const lin = await req(`${f2.url}/v1/znodes/lin?consistency=linearizable`);
  t.equal(lin.status, 200);
  t.equal(lin.body.data, 'v2', 'a linearizable read on another follower sees the latest write');
  const sync = await req(`${f2.url}/v1/sync`, 'POST');
  t.equal(sync.status, 200);
  const after = await req(`${f2.url}/v1/znodes/lin`);
  t.equal(after.body.data, 'v2', 'after sync a plain read sees it too');
  t.ok(Number(sync.body.zxid) >= Number(lin.headers.get('zk-zxid')), 'sync reports a zxid at least as new');
});
