// A fault on a real 3-process ensemble (see the test name).
import t from 'tap';
import { startCompactingEnsemble } from '../helpers/ensemble.js';
import { children, req, retry } from './client.js';

t.test('a follower too far behind for the log catches up from a snapshot of the leader state', async (t) => {
  const { ens, url, lagging } = await startCompactingEnsemble(t);
  await ens.kill(lagging.id);
  t.equal((await req(`${url}/v1/znodes/snap`, 'POST', 'root')).status, 201);
  for (let i = 0; i < 120; i++) t.equal((await req(`${url}/v1/znodes/snap/n${i}`, 'POST', `v${i}`)).status, 201, `write ${i}`, { diagnostic: false });
  const cluster = await req(`${url}/v1/admin/cluster`);
  t.ok(cluster.status === 200, 'cluster view answers');
  await ens.start(lagging.id);
  const z = await req(`${url}/v1/sync`, 'POST');
  const got = await retry(() => children(lagging.url, '/snap', String(z.body.zxid)), (c) => c.length === 120, 30000);
  t.equal(got.length, 120, 'the restarted follower has all 120 children');
  const v = await req(`${lagging.url}/v1/znodes/snap/n119`);
  t.equal(v.body.data, 'v119', 'with their data');
});
