// A fault on a real 3-process ensemble (see the test name).
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
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
