// setData and delete over REST (API.md §3): versions via If-Match and ?version, recursive delete, size limits.
import t from 'tap';
import { Client, basic, digest, serverFor } from './http.js';

const { zk } = await serverFor(t);

t.test('set replaces the data and answers the new stat with an ETag', async (t) => {
  await zk.create('/w-set', 'old');
  const r = await zk.set('/w-set', 'new');
  t.equal(r.status, 200);
  t.equal(r.body.path, '/w-set');
  t.equal(r.body.stat.version, 1);
  t.equal(r.header('etag'), '"1"');
  t.equal((await zk.get('/w-set')).body.data, 'new');
});

t.test('set of a missing node is 404 NoNode', async (t) => {
  const r = await zk.set('/w-missing', 'x');
  t.equal(r.status, 404);
  t.equal(r.body.error, 'NoNode');
});

t.test('set with If-Match as the quoted ETag or a bare number compares the version', async (t) => {
  await zk.create('/w-cas', 'v0');
  t.equal((await zk.set('/w-cas', 'v1', '', { 'if-match': '"0"' })).status, 200);
  t.equal((await zk.set('/w-cas', 'v2', '', { 'if-match': '1' })).status, 200);
  t.equal((await zk.set('/w-cas', 'v3', 'version=2')).status, 200);
  t.equal((await zk.get('/w-cas')).body.stat.version, 3);
});

t.test('set with a stale version is 412 BadVersion and leaves the data', async (t) => {
  await zk.create('/w-stale', 'keep');
  await zk.set('/w-stale', 'keep2');
  for (const [q, h] of [['', { 'if-match': '"0"' }], ['version=0', {}], ['', { 'if-match': '7' }]] as const) {
    const r = await zk.set('/w-stale', 'lost', q, h);
    t.equal(r.status, 412);
    t.equal(r.body.error, 'BadVersion');
    t.equal(r.body.code, -103);
  }
  const g = await zk.get('/w-stale');
  t.equal(g.body.data, 'keep2');
  t.equal(g.body.stat.version, 1);
});

t.test('version -1 (and If-Match: *) means any version', async (t) => {
  await zk.create('/w-any');
  await zk.set('/w-any', 'a');
  t.equal((await zk.set('/w-any', 'b', 'version=-1')).status, 200);
  t.equal((await zk.set('/w-any', 'c', '', { 'if-match': '-1' })).status, 200);
  t.equal((await zk.set('/w-any', 'd', '', { 'if-match': '*' })).status, 200);
  t.equal((await zk.delete('/w-any', 'version=-1')).status, 204);
});

t.test('If-Match and ?version that disagree are 400 BadArguments and change nothing', async (t) => {
  await zk.create('/w-disagree', 'same');
  const r = await zk.set('/w-disagree', 'other', 'version=1', { 'if-match': '"0"' });
  t.equal(r.status, 400);
  t.equal(r.body.error, 'BadArguments');
  const d = await zk.delete('/w-disagree', 'version=1', { 'if-match': '0' });
  t.equal(d.status, 400);
  t.equal((await zk.get('/w-disagree')).body.data, 'same');
  t.equal((await zk.set('/w-disagree', 'agreed', 'version=0', { 'if-match': '"0"' })).status, 200, 'agreeing values are fine');
});

t.test('malformed versions (not an integer, beyond 32 bits) are 400 BadArguments', async (t) => {
  await zk.create('/w-badver');
  const cases = [['version=abc', {}], ['version=1.5', {}], ['version=2147483648', {}], ['version=-2147483649', {}], ['', { 'if-match': 'abc' }]] as const;
  for (const [q, h] of cases) {
    const r = await zk.set('/w-badver', 'x', q, h);
    t.equal(r.status, 400, JSON.stringify([q, h]));
    t.equal(r.body.error, 'BadArguments');
  }
});

t.test('a negative version other than -1 is a version like any other, as ZooKeeper takes it: 412 BadVersion', async (t) => {
  await zk.create('/w-negver', 'kept');
  for (const [q, h] of [['version=-2', {}], ['', { 'if-match': '"-5"' }], ['version=-2147483648', {}]] as const) {
    const r = await zk.set('/w-negver', 'x', q, h);
    t.equal(r.status, 412, JSON.stringify([q, h]));
    t.equal(r.body.error, 'BadVersion');
    const d = await zk.delete('/w-negver', q, h);
    t.equal(d.status, 412, `delete ${JSON.stringify([q, h])}`);
  }
  const m = await zk.multi([{ op: 'check', path: '/w-negver', version: -2 }]);
  t.equal(m.body.error, 'BadVersion', 'a multi check');
  t.equal((await zk.get('/w-negver')).body.data, 'kept');
});

t.test('delete answers 204 and the node is gone', async (t) => {
  await zk.create('/w-del');
  const r = await zk.delete('/w-del');
  t.equal(r.status, 204);
  t.equal(r.raw.length, 0);
  t.equal((await zk.stat('/w-del')).status, 404);
});

t.test('delete of a missing node is 404 NoNode', async (t) => {
  const r = await zk.delete('/w-del-missing');
  t.equal(r.status, 404);
  t.equal(r.body.error, 'NoNode');
});

t.test('delete with a stale version is BadVersion and leaves the node', async (t) => {
  await zk.create('/w-del-stale');
  await zk.set('/w-del-stale', 'x');
  for (const [q, h] of [['version=0', {}], ['', { 'if-match': '"0"' }]] as const) {
    const r = await zk.delete('/w-del-stale', q, h);
    t.equal(r.status, 412);
    t.equal(r.body.error, 'BadVersion');
  }
  t.equal((await zk.stat('/w-del-stale')).status, 200);
  t.equal((await zk.delete('/w-del-stale', '', { 'if-match': '"1"' })).status, 204);
});

t.test('delete of a node with children is 409 NotEmpty without ?recursive', async (t) => {
  await zk.create('/w-full');
  await zk.create('/w-full/kid');
  const r = await zk.delete('/w-full');
  t.equal(r.status, 409);
  t.equal(r.body.error, 'NotEmpty');
  t.equal(r.body.code, -111);
  t.equal((await zk.stat('/w-full/kid')).status, 200);
});

t.test('?recursive deletes the whole subtree in one zxid', async (t) => {
  await zk.create('/w-tree/a/b/c', '', 'parents');
  await zk.create('/w-tree/a/d');
  await zk.create('/w-tree/e');
  const before = BigInt((await zk.call('POST', '/v1/sync')).body.zxid);
  const r = await zk.delete('/w-tree', 'recursive');
  t.equal(r.status, 204);
  t.equal(BigInt(r.header('zk-zxid') ?? '0'), before + 1n, 'one transaction');
  for (const p of ['/w-tree', '/w-tree/a', '/w-tree/a/b/c', '/w-tree/e']) t.equal((await zk.stat(p)).status, 404, p);
});

t.test('a recursive delete that an ACL forbids in part deletes nothing', async (t) => {
  const bob = basic('bob', 'pw');
  const bobAcl = `acl=${encodeURIComponent('digest:' + digest('bob', 'pw') + ':cdrwa')}`;
  await zk.create('/w-guard');
  await zk.create('/w-guard/open');
  await zk.create('/w-guard/open/x');
  // Only bob may delete children of /w-guard/locked.
  await zk.create('/w-guard/locked', '', `acl=world:anyone:r&${bobAcl}`, bob);
  await zk.create('/w-guard/locked/y', '', '', bob);
  const r = await zk.delete('/w-guard', 'recursive');
  t.equal(r.status, 403);
  t.equal(r.body.error, 'NoAuth');
  for (const p of ['/w-guard', '/w-guard/open', '/w-guard/open/x', '/w-guard/locked', '/w-guard/locked/y']) {
    t.equal((await zk.stat(p)).status, 200, `${p} is still there`);
  }
  t.equal((await zk.with(bob).delete('/w-guard', 'recursive')).status, 204, 'bob may delete all of it');
});

t.test('data up to jute.maxbuffer is accepted at the default size, and one byte more is 413', async (t) => {
  const max = 1048575;
  const ok = await zk.create('/w-big', Buffer.alloc(max, 7));
  t.equal(ok.status, 201);
  t.equal((await zk.stat('/w-big')).body.stat.dataLength, max);
  const tooBig = await zk.set('/w-big', Buffer.alloc(max + 1, 7));
  t.equal(tooBig.status, 413);
  t.equal((await zk.stat('/w-big')).body.stat.version, 0);
});

t.test('with a small jute.maxbuffer, create/set above it are 413 and below it fine', async (t) => {
  const { zk: small } = await serverFor(t, { juteMaxBuffer: 4096 });
  t.equal((await small.create('/exact', Buffer.alloc(4096))).status, 201);
  const c = await small.create('/over', Buffer.alloc(4097));
  t.equal(c.status, 413);
  t.match(c.body.message, /jute\.maxbuffer/);
  t.equal((await small.stat('/over')).status, 404);
  const s = await small.set('/exact', Buffer.alloc(5000));
  t.equal(s.status, 413);
  const m = await small.multi([{ op: 'create', path: '/m', data: 'x'.repeat(5000) }]);
  t.equal(m.status, 413, 'a multi body above the limit is 413 too');
  t.equal((await small.stat('/m')).status, 404);
});

t.test('the body of a write is raw bytes whatever its Content-Type', async (t) => {
  for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'image/png']) {
    const path = `/w-ctype-${type.replace(/\W/g, '')}`;
    const body = type === 'application/json' ? '{not json' : 'a=1&b=2';
    const r = await zk.call('POST', '/v1/znodes' + path, { body, headers: { 'content-type': type } });
    t.equal(r.status, 201, type);
    t.equal((await zk.get(path)).body.data, body);
  }
  const none = await new Client(zk.base).call('POST', '/v1/znodes/w-nobody');
  t.equal(none.status, 201, 'no body at all is empty data');
});
