// create2 over REST with every flag (API.md §3): sequential names, ephemeral, container, ttl, parents, acl.
import t from 'tap';
import { serverFor } from './http.js';

const { zk } = await serverFor(t);

t.test('a sequential create of / names a child of the root, as ZooKeeper does; a plain one is NodeExists', async (t) => {
  const { zk: fresh } = await serverFor(t);
  t.equal((await fresh.create('/')).status, 409, 'the root exists');
  const r = await fresh.create('/', 'x', 'sequential');
  t.equal(r.status, 201);
  t.equal(r.body.path, '/0000000000', "the suffix is the root's count of children ever created");
  const m = await fresh.multi([{ op: 'create', path: '/', mode: 'PERSISTENT_SEQUENTIAL' }]);
  t.equal(m.status, 200);
  t.equal(m.body.results[0].path, '/0000000001');
  t.same((await fresh.children('/')).body.children, ['0000000000', '0000000001', 'zookeeper']);
});

t.test('create answers 201 with the path, stat, Location and ETag', async (t) => {
  const r = await zk.create('/c-plain', 'v');
  t.equal(r.status, 201);
  t.equal(r.body.path, '/c-plain');
  t.equal(r.body.stat.version, 0);
  t.equal(r.header('location'), '/v1/znodes/c-plain');
  t.equal(r.header('etag'), '"0"');
  t.equal((await zk.get('/c-plain')).body.data, 'v');
});

t.test('create of an existing node is 409 NodeExists and leaves it', async (t) => {
  await zk.create('/c-dup', 'first');
  const r = await zk.create('/c-dup', 'second');
  t.equal(r.status, 409);
  t.equal(r.body.error, 'NodeExists');
  t.equal(r.body.code, -110);
  t.equal((await zk.get('/c-dup')).body.data, 'first');
});

t.test('create under a missing parent is 404 NoNode', async (t) => {
  const r = await zk.create('/c-nope/child');
  t.equal(r.status, 404);
  t.equal(r.body.error, 'NoNode');
});

t.test('sequential create of "/q/" makes "/q/0000000000" then counts up', async (t) => {
  await zk.create('/q');
  t.equal((await zk.create('/q/', '', 'sequential')).body.path, '/q/0000000000');
  t.equal((await zk.create('/q/', '', 'sequential')).body.path, '/q/0000000001');
  t.equal((await zk.create('/q/job-', '', 'sequential')).body.path, '/q/job-0000000002');
});

t.test('the sequence counts children ever created, while cversion reports 2×creates − numChildren', async (t) => {
  await zk.create('/seq');
  await zk.create('/seq/a');
  await zk.create('/seq/b');
  await zk.create('/seq/c');
  t.equal((await zk.delete('/seq/a')).status, 204);
  t.equal((await zk.delete('/seq/b')).status, 204);
  const s = (await zk.stat('/seq')).body.stat;
  t.equal(s.numChildren, 1);
  t.equal(s.cversion, 5, '3 creates + 2 deletes');
  const r = await zk.create('/seq/n-', '', 'sequential');
  t.equal(r.body.path, '/seq/n-0000000003', 'suffix is the 3 children ever created, not cversion 5');
  t.equal((await zk.stat('/seq')).body.stat.cversion, 6);
});

t.test('ephemeral create without a session is 400 BadArguments', async (t) => {
  const r = await zk.create('/c-eph-nosess', '', 'ephemeral');
  t.equal(r.status, 400);
  t.equal(r.body.error, 'BadArguments');
  t.equal((await zk.stat('/c-eph-nosess')).status, 404);
});

t.test('ephemeral create with a closed session is 410 SessionExpired and creates nothing', async (t) => {
  const sid = await zk.session();
  t.equal((await zk.call('DELETE', `/v1/sessions/${sid}`)).status, 204);
  const r = await zk.create('/c-eph-closed', '', 'ephemeral', { 'zk-session': sid });
  t.equal(r.status, 410);
  t.equal(r.body.error, 'SessionExpired');
  t.equal(r.body.code, -112);
  t.equal((await zk.stat('/c-eph-closed')).status, 404);
});

t.test('ephemeral create in a session records the session as ephemeralOwner', async (t) => {
  const sid = await zk.session();
  const r = await zk.create('/c-eph', 'x', 'ephemeral', { 'zk-session': sid });
  t.equal(r.status, 201);
  t.equal(r.body.stat.ephemeralOwner, sid);
  const seq = await zk.create('/c-eph-seq-', '', 'ephemeral&sequential', { 'zk-session': sid });
  t.match(seq.body.path, /^\/c-eph-seq-\d{10}$/);
  t.equal(seq.body.stat.ephemeralOwner, sid);
});

t.test('a child of an ephemeral is 400 NoChildrenForEphemerals', async (t) => {
  const sid = await zk.session();
  await zk.create('/c-eph-parent', '', 'ephemeral', { 'zk-session': sid });
  const r = await zk.create('/c-eph-parent/kid');
  t.equal(r.status, 400);
  t.equal(r.body.error, 'NoChildrenForEphemerals');
  t.equal(r.body.code, -108);
});

t.test('a container reports ephemeralOwner 0x0, as ZooKeeper does (its stored marker is not shown)', async (t) => {
  const r = await zk.create('/c-container', '', 'container');
  t.equal(r.status, 201);
  t.equal(r.body.stat.ephemeralOwner, '0x0');
  t.equal((await zk.get('/c-container', 'stat')).body.stat.ephemeralOwner, '0x0', 'and in its stat read later');
  t.equal((await zk.create('/c-container/kid')).status, 201, 'containers take children');
});

t.test('container combined with sequential, ephemeral or ttl is BadArguments', async (t) => {
  for (const q of ['container&sequential', 'container&ttl=1000']) {
    const r = await zk.create('/c-bad-container', '', q);
    t.equal(r.status, 400, q);
    t.equal(r.body.error, 'BadArguments');
  }
});

t.test('a TTL node reports ephemeralOwner 0x0, as ZooKeeper does (its stored 0xFF00000000000000 | ttl is not shown)', async (t) => {
  const r = await zk.create('/c-ttl', '', 'ttl=60000');
  t.equal(r.status, 201);
  t.equal(r.body.stat.ephemeralOwner, '0x0');
  t.equal((await zk.get('/c-ttl', 'stat')).body.stat.ephemeralOwner, '0x0', 'and in its stat read later');
  const seq = await zk.create('/c-ttl-seq-', '', 'ttl=5000&sequential');
  t.equal(seq.status, 201);
  t.match(seq.body.path, /^\/c-ttl-seq-\d{10}$/);
  t.equal(seq.body.stat.ephemeralOwner, '0x0');
});

t.test('ttl out of range (0, negative, above 2^40−1, not a number) is BadArguments', async (t) => {
  for (const ttl of ['0', '-1', String(0xffffffffff + 1), 'abc', '']) {
    const r = await zk.create('/c-ttl-bad', '', `ttl=${ttl}`);
    t.equal(r.status, 400, `ttl=${ttl}`);
    t.equal(r.body.error, 'BadArguments');
  }
  t.equal((await zk.create('/c-ttl-max', '', `ttl=${0xffffffffff}`)).status, 201, 'the maximum ttl is accepted');
});

t.test('ttl with ephemeral is BadArguments', async (t) => {
  const sid = await zk.session();
  const r = await zk.create('/c-ttl-eph', '', 'ttl=1000&ephemeral', { 'zk-session': sid });
  t.equal(r.status, 400);
  t.equal(r.body.error, 'BadArguments');
});

t.test('a flag set to false or 0 is off', async (t) => {
  const r = await zk.create('/c-flags-off', '', 'ephemeral=false&sequential=0&container=false');
  t.equal(r.status, 201);
  t.equal(r.body.path, '/c-flags-off');
  t.equal(r.body.stat.ephemeralOwner, '0x0');
});

t.test('?parents with an ephemeral leaf makes persistent ancestors and an ephemeral leaf', async (t) => {
  const sid = await zk.session();
  const r = await zk.create('/pe1/pe2/leaf', '', 'parents&ephemeral', { 'zk-session': sid });
  t.equal(r.status, 201);
  t.equal(r.body.stat.ephemeralOwner, sid);
  t.equal((await zk.stat('/pe1/pe2')).body.stat.ephemeralOwner, '0x0');
  const seq = await zk.create('/pe3/job-', '', 'parents&sequential');
  t.equal(seq.body.path, '/pe3/job-0000000000', 'a sequential leaf counts from the new parent');
});

t.test('?parents creates missing ancestors as empty persistent nodes', async (t) => {
  const r = await zk.create('/p1/p2/p3/leaf', 'data', 'parents');
  t.equal(r.status, 201);
  for (const p of ['/p1', '/p1/p2', '/p1/p2/p3']) {
    const g = await zk.get(p);
    t.equal(g.status, 200, p);
    t.equal(g.body.data, '');
    t.equal(g.body.stat.ephemeralOwner, '0x0');
  }
  t.equal((await zk.get('/p1/p2/p3/leaf')).body.data, 'data');
  t.equal((await zk.create('/p1/p2/x', '', 'parents')).status, 201, 'existing ancestors are fine');
});

t.test('?acl sets the node ACL, repeatable', async (t) => {
  const r = await zk.create('/c-acl', '', 'acl=world:anyone:r&acl=ip:127.0.0.1:cdrwa');
  t.equal(r.status, 201);
  const acl = (await zk.getAcl('/c-acl')).body.acl;
  t.same(acl, [
    { scheme: 'world', id: 'anyone', perms: 'r' },
    { scheme: 'ip', id: '127.0.0.1', perms: 'cdrwa' },
  ]);
});

t.test('a create without ?acl gets world:anyone:cdrwa', async (t) => {
  await zk.create('/c-acl-default');
  t.same((await zk.getAcl('/c-acl-default')).body.acl, [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }]);
});

t.test('invalid ACL strings are 400 InvalidACL and create nothing', async (t) => {
  for (const acl of ['world:anyone:x', 'nosuch:id:r', 'world:someone:r', 'digest:bob:r', 'ip:300.1.1.1:r', 'ip:127.0.0.1/33:r', 'justtext']) {
    const r = await zk.create('/c-acl-bad', '', `acl=${encodeURIComponent(acl)}`);
    t.equal(r.status, 400, acl);
    t.equal(r.body.error, 'InvalidACL', acl);
    t.equal(r.body.code, -114);
  }
  t.equal((await zk.stat('/c-acl-bad')).status, 404);
});

t.test("?parents checks each new ancestor as a create of its own: an ACL without CREATE stops at the second level", async (t) => {
  const r = await zk.create('/pr/x/y', 'leaf', 'parents&acl=world:anyone:r');
  t.equal(r.status, 403, 'as Curator creatingParentsIfNeeded with the ACL applied to parents');
  t.match(r.body, { error: 'NoAuth', path: '/pr' });
  t.equal((await zk.get('/pr')).status, 404, 'and nothing of it was made');
});
