// Every stat field by ZooKeeper's update rules (ZOOKEEPER.md §2): zxids, times, versions, owner, lengths.
import t from 'tap';
import { serverFor } from './http.js';

const { zk } = await serverFor(t);

t.test('a create sets czxid = mzxid = pzxid = the create zxid, ctime = mtime, versions 0', async (t) => {
  const before = Date.now();
  const r = await zk.create('/s-new', 'abcd');
  const after = Date.now();
  const s = r.body.stat;
  t.match(s.czxid, /^\d+$/, 'zxids are decimal strings');
  t.equal(s.czxid, r.header('zk-zxid'), 'the create zxid is what the node reports as applied');
  t.equal(s.mzxid, s.czxid);
  t.equal(s.pzxid, s.czxid);
  t.equal(s.ctime, s.mtime);
  t.ok(s.ctime >= before - 5 && s.ctime <= after + 5, 'ctime is epoch ms of the create');
  t.equal(s.version, 0);
  t.equal(s.cversion, 0);
  t.equal(s.aversion, 0);
  t.equal(s.ephemeralOwner, '0x0');
  t.equal(s.dataLength, 4);
  t.equal(s.numChildren, 0);
  t.same((await zk.stat('/s-new')).body.stat, s, 'exists reports the same stat');
});

t.test('setData moves mzxid, mtime and version, and nothing else', async (t) => {
  const c = (await zk.create('/s-set', 'a')).body.stat;
  await new Promise((r) => setTimeout(r, 5));
  const r = await zk.set('/s-set', 'bbb');
  const s = r.body.stat;
  t.equal(r.status, 200);
  t.equal(s.mzxid, r.header('zk-zxid'));
  t.ok(BigInt(s.mzxid) > BigInt(c.mzxid));
  t.ok(s.mtime >= c.mtime);
  t.equal(s.version, 1);
  t.equal(s.dataLength, 3);
  t.equal(s.czxid, c.czxid);
  t.equal(s.ctime, c.ctime);
  t.equal(s.pzxid, c.pzxid, 'pzxid does not move on setData');
  t.equal(s.cversion, 0);
  t.equal(s.aversion, 0);
  const again = await zk.set('/s-set', 'bbb');
  t.equal(again.body.stat.version, 2, 'version moves even when the bytes are identical');
});

t.test('a child create moves the parent pzxid and cversion, not its mzxid or version', async (t) => {
  const p = (await zk.create('/s-parent')).body.stat;
  const kid = await zk.create('/s-parent/k');
  const s = (await zk.stat('/s-parent')).body.stat;
  t.equal(s.pzxid, kid.body.stat.czxid);
  t.equal(s.mzxid, p.mzxid);
  t.equal(s.version, 0);
  t.equal(s.cversion, 1);
  t.equal(s.numChildren, 1);
});

t.test('a child delete moves the parent pzxid to the delete zxid and counts in cversion', async (t) => {
  await zk.create('/s-del');
  await zk.create('/s-del/k');
  const d = await zk.delete('/s-del/k');
  t.equal(d.status, 204);
  const s = (await zk.stat('/s-del')).body.stat;
  t.equal(s.pzxid, d.header('zk-zxid'));
  t.equal(s.cversion, 2, 'one create + one delete');
  t.equal(s.numChildren, 0);
});

t.test('setACL moves aversion only', async (t) => {
  const c = (await zk.create('/s-acl')).body.stat;
  const r = await zk.setAcl('/s-acl', [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }]);
  t.equal(r.status, 200);
  const s = (await zk.stat('/s-acl')).body.stat;
  t.equal(s.aversion, 1);
  t.equal(s.mzxid, c.mzxid);
  t.equal(s.version, 0);
  t.equal(r.body.stat.aversion, 1);
});

t.test('czxid orders creates: a later create has a larger czxid', async (t) => {
  const a = (await zk.create('/s-order-a')).body.stat;
  const b = (await zk.create('/s-order-b')).body.stat;
  t.ok(BigInt(b.czxid) > BigInt(a.czxid));
});

t.test('ephemeralOwner is the session id for ephemerals, 0x0 for persistent nodes', async (t) => {
  const sid = await zk.session();
  t.match(sid, /^0x[0-9a-f]+$/);
  t.equal((await zk.create('/s-eph', '', 'ephemeral', { 'zk-session': sid })).body.stat.ephemeralOwner, sid);
  t.equal((await zk.create('/s-pers')).body.stat.ephemeralOwner, '0x0');
});

t.test('versions are 32-bit integers as in ZooKeeper: after 2147483647 comes -2147483648, and a client can name it', async (t) => {
  const { server, zk: z } = await serverFor(t);
  t.equal((await z.create('/wrap', 'x')).status, 201);
  // Two billion sets would take a day here: put the node at the last positive version directly.
  const at = server.node.store.getNode('/wrap');
  if (!at) throw new Error('no /wrap');
  await server.node.store.writeDurably((v) => v.putNode('/wrap', { ...at, version: 2147483647, aversion: 2147483647 }));
  const put = (ifMatch: string) => fetch(`${server.url}/v1/znodes/wrap`, { method: 'PUT', headers: { 'if-match': ifMatch }, body: 'y' });
  const first = await put('"2147483647"');
  t.equal(first.status, 200);
  t.equal(((await first.json()) as { stat: { version: number } }).stat.version, -2147483648);
  const second = await put('"-2147483648"');
  t.equal(second.status, 200, 'the wrapped version is a version a client can send');
  t.equal(((await second.json()) as { stat: { version: number } }).stat.version, -2147483647);
  const acl = await fetch(`${server.url}/v1/acl/wrap`, {
    method: 'PUT',
    headers: { 'if-match': '2147483647', 'content-type': 'application/json' },
    body: JSON.stringify({ acl: [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }] }),
  });
  t.equal(acl.status, 200);
  t.equal(((await acl.json()) as { stat: { aversion: number } }).stat.aversion, -2147483648, 'aversion wraps alike');
});
