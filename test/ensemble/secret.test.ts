// A fault on a real 3-process ensemble (see the test name).
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { req } from './client.js';

t.test('a process without the ensemble secret cannot join', async (t) => {
  // Node 2 reads the secret from ensembleSecretFile (relative to its zoo.cfg), the others from ensembleSecret.
  // Node 3 serves reads without a leader (readonlymode), so that its tree shows what it never received.
  const ens = await startEnsemble({ secretFor: (id) => (id === 3 ? 'not-the-secret' : 'the-secret'), secretInFile: [2], extraFor: (id) => (id === 3 ? ['readonlymode.enabled=true'] : []) });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader(30000, [1, 2]);
  t.ok(leader === 1 || leader === 2, 'the two nodes that share the secret (one of them by file) elect a leader');
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/secret-test`, 'POST', 'x')).status, 201, 'and accept writes');
  await new Promise((r) => setTimeout(r, 1000));
  const s3 = await req(`${ens.node(3).url}/v1/admin/srvr`);
  t.equal(s3.body.mode, 'looking', 'the node with the wrong secret never joins');
  t.equal((await req(`${ens.node(3).url}/v1/znodes/secret-test`)).status, 404, 'and never receives the data');
  const cluster = await req(`${ens.node(leader).url}/v1/admin/cluster`);
  const m3 = (cluster.body.members as { id: number; connected: boolean }[]).find((m) => m.id === 3);
  t.equal(m3?.connected, false, 'the leader reports it as not connected');
});
