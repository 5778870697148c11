// Delivery respects ACLs as ZooKeeper 3.8.4+: an event reaches a connection only if it has READ on the changed node
// (the parent for NodeChildrenChanged; a deleted node's own ACL), and a watch on an unreadable node is NoAuth.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { digestOf } from '../../server/tree/acl.js';
import { WatchClient, http } from './client.js';

const s = await startTestServer();
t.teardown(() => s.destroy());
const base = s.url;
const bob = { authorization: 'Basic ' + Buffer.from('bob:secret').toString('base64') };
const bobAcl = encodeURIComponent(`digest:${digestOf('bob', 'secret')}:cdrwa`);

t.test('only connections with READ on a node get its events', async (t) => {
  await http(base, 'POST', '/v1/znodes/pub');
  const anon = await WatchClient.open(base);
  const asBob = await WatchClient.open(base, bob);
  t.teardown(() => anon.close());
  t.teardown(() => asBob.close());
  for (const c of [anon, asBob]) t.match(await c.watch('/pub', 'persistentRecursive'), { ok: true });
  await http(base, 'POST', `/v1/znodes/pub/secret?acl=${bobAcl}`, 's', bob);
  await http(base, 'PUT', '/v1/znodes/pub/secret', 't', bob);
  await http(base, 'DELETE', '/v1/znodes/pub/secret', undefined, bob);
  await http(base, 'POST', '/v1/znodes/pub/open');
  await anon.sync();
  await asBob.sync();
  t.same(asBob.eventList(), ['NodeCreated /pub/secret', 'NodeDataChanged /pub/secret', 'NodeDeleted /pub/secret', 'NodeCreated /pub/open']);
  t.same(anon.eventList(), ['NodeCreated /pub/open'], 'nothing about the node anonymous cannot read');
});

t.test('NodeChildrenChanged is filtered by the parent\'s ACL', async (t) => {
  await http(base, 'POST', `/v1/znodes/priv?acl=${bobAcl}`, '', bob);
  const anonRoot = await WatchClient.open(base);
  t.teardown(() => anonRoot.close());
  const asBob = await WatchClient.open(base, bob);
  t.teardown(() => asBob.close());
  await asBob.watch('/priv', 'persistent');
  await anonRoot.watch('/', 'children');
  await http(base, 'POST', '/v1/znodes/priv/kid', '', bob);
  await asBob.sync();
  t.same(asBob.eventList(), ['NodeChildrenChanged /priv']);
  await http(base, 'POST', '/v1/znodes/rootkid');
  await anonRoot.sync();
  t.same(anonRoot.eventList(), ['NodeChildrenChanged /'], 'root is world-readable');
});

t.test('a watch on a node without READ is NoAuth; bad Authorization refuses the upgrade', async (t) => {
  const anon = await WatchClient.open(base);
  t.teardown(() => anon.close());
  t.match(await anon.watch('/priv', 'data'), { ok: false, error: 'NoAuth', code: -102, path: '/priv' });
  t.match(await anon.watch('/priv', 'persistent'), { ok: false, error: 'NoAuth' });
  await t.rejects(WatchClient.open(base, { authorization: 'Basic !!!' }), /upgrade refused: 401/);
});
