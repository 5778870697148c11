// Replacing the tree from a snapshot copy (what a follower does on install) must not touch the tree when the copy
// cannot be opened: a second, overlapping install once found its file gone and wiped a follower's whole tree.
import t from 'tap';
import { join } from 'node:path';
import { startTestServer, tempDir } from '../helpers/server.js';
import { Client } from './http.js';

t.test('a snapshot file that cannot be opened leaves the tree, and no install mark, behind', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.close());
  const c = new Client(s.url);
  await c.create('/keep', 'v');
  for (let i = 0; i < 5; i++) await c.create(`/keep/n${i}`, `v${i}`);
  const zxid = s.node.store.lastZxid();
  await t.rejects(s.node.store.replaceTreeFrom(join(tempDir(), 'missing.mdb')), 'the install fails');
  t.equal(s.node.store.installInterrupted, false, 'no interrupted-install mark (a restart would discard the tree)');
  t.equal(s.node.store.lastZxid(), zxid, 'the last zxid is unchanged');
  t.same((await c.children('/keep')).body.children, ['n0', 'n1', 'n2', 'n3', 'n4'], 'every node is still there');
  t.equal((await c.get('/keep/n4')).body.data, 'v4', 'with its data');
});
