// A fault on a real 3-process ensemble (see the test name).
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { freePort } from '../helpers/server.js';
import { req, retry } from './client.js';
import { converge } from './faults.js';

t.test('a minority refuses writes with 503 and Retry-After, and the healed ensemble converges', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const others = ens.nodes.filter((n) => n.id !== leader).map((n) => n.id);
  for (const id of others) ens.pause(id);
  const t0 = Date.now();
  const r = await req(`${ens.node(leader).url}/v1/znodes/minority`, 'POST', 'x');
  const took = Date.now() - t0;
  t.equal(r.status, 503, 'a write on the isolated node is 503');
  t.equal(r.body.error, 'ConnectionLoss');
  t.ok(r.headers.get('retry-after'), 'with Retry-After');
  t.ok(took < 15000, `answered within a bounded time (${took} ms), not a hang`);
  const looking = await retry(() => req(`${ens.node(leader).url}/v1/admin/srvr`), (s) => s.body.mode === 'looking', 10000);
  t.equal(looking.body.mode, 'looking', 'the isolated old leader steps down (CheckQuorum)');
  for (const id of others) ens.resume(id);
  const again = await ens.waitForLeader();
  const ok = await retry(() => req(`${ens.node(again).url}/v1/znodes/healed`, 'POST', 'y'), (x) => x.status === 201 || x.status === 409, 20000);
  t.ok(ok.status === 201 || ok.status === 409, 'writes work again once the partition heals');
  const lists = await converge(ens, '/');
  for (const list of lists) t.same(list, lists[0], 'every node holds the same tree');
  t.notOk((lists[0] as string[]).includes('minority') && r.body.applied === false, 'a write answered applied:false was not applied');
});

t.test('a member with no quorum answers ready 503 on the metrics port exactly as on its HTTP port', async (t) => {
  const metrics = new Map<number, number>();
  for (const id of [1, 2, 3]) metrics.set(id, await freePort());
  const ens = await startEnsemble({ extraFor: (id) => [`metricsPort=${metrics.get(id)}`] });
  t.teardown(() => ens.destroy());
  await ens.waitForLeader();
  await ens.kill(2);
  await ens.kill(3);
  const url = ens.node(1).url;
  const m = `http://127.0.0.1:${metrics.get(1)}`;
  let http = await fetch(`${url}/v1/admin/ready`);
  for (let i = 0; i < 100 && http.status !== 503; i++) {
    await new Promise((r) => setTimeout(r, 200));
    http = await fetch(`${url}/v1/admin/ready`);
  }
  t.equal(http.status, 503, 'the HTTP port: not ready');
  const mon = await fetch(`${m}/v1/admin/ready`);
  t.equal(mon.status, 503, 'the metrics port: not ready');
  const [a, b] = [(await http.json()) as { error: string; code: number }, (await mon.json()) as { error: string; code: number }];
  t.equal(b.error, a.error, `the same error (${a.error})`);
  t.equal(b.code, a.code);
  t.equal(mon.headers.get('retry-after'), http.headers.get('retry-after'), 'the same Retry-After');
  t.match(mon.headers.get('zk-zxid'), /^\d+$/, 'and a ZK-Zxid');
});
