// ZK-Zxid on a read is what a client sends back as ZK-Min-Zxid on its next request, maybe to another member. So it
// must be at least the zxid of anything the read showed: otherwise that member, at the lower zxid, may serve older
// data and the client's view goes back. An ensemble member's LMDB makes a transaction readable as it commits, a
// moment before the engine counts it applied, so that is checked under load, on every member.
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';

const SECONDS = 5;

t.test('no read shows data newer than the zxid it reports', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  await ens.waitForLeader();
  const urls = ens.nodes.map((n) => n.url);
  t.equal((await fetch(`${urls[0]}/v1/znodes/w`, { method: 'POST', body: 'x' })).status, 201);
  let stop = false;
  let writes = 0;
  const writer = async (u: string) => {
    for (let i = 0; !stop; i++) {
      const r = await fetch(`${u}/v1/znodes/w`, { method: 'PUT', body: `v${i}` });
      await r.arrayBuffer();
      if (r.status === 200) writes++;
    }
  };
  let reads = 0;
  const ahead: string[] = [];
  const reader = async (u: string, children: boolean) => {
    while (!stop) {
      const r = await fetch(`${u}/v1/znodes/${children ? '?children' : 'w'}`);
      const header = Number(r.headers.get('zk-zxid'));
      const body = (await r.json()) as { stat?: { mzxid: string; pzxid: string } };
      if (r.status !== 200 || !body.stat) continue;
      reads++;
      const seen = Math.max(Number(body.stat.mzxid), Number(body.stat.pzxid));
      if (seen > header && ahead.length < 5) ahead.push(`${u}: ${children ? 'children of /' : '/w'} at zxid ${seen}, ZK-Zxid ${header}`);
    }
  };
  const work = [...urls.flatMap((u) => [writer(u), writer(u)]), ...urls.flatMap((u) => [reader(u, false), reader(u, false), reader(u, true)])];
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop = true;
  await Promise.all(work);
  t.ok(writes > 100 && reads > 100, `under load (${writes} sets, ${reads} reads)`);
  t.same(ahead, [], 'every read reports a zxid at least that of what it showed');
});
