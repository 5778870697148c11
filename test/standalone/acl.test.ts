// ACLs (API.md §7, ZOOKEEPER.md §6): schemes world/digest/auth/ip/super, each permission checked where
// ZooKeeper checks it (also inside multi), ZooKeeper's error order, getACL masking and setACL's aversion CAS.
import t from 'tap';
import { basic, digest, serverFor, zurl, type AclJson } from './http.js';
import { startTestServer } from '../helpers/server.js';

const { zk } = await serverFor(t, { superDigest: digest('super', 'secret') });
const bob = zk.with(basic('bob', 'pw'));
const alice = zk.with(basic('alice', 'pw2'));
const root = zk.with(basic('super', 'secret'));
const bobId = digest('bob', 'pw');
const acl = (...entries: string[]) => entries.map((e) => `acl=${encodeURIComponent(e)}`).join('&');

t.test('a digest ACL admits the user whose Basic credentials hash to it, and nobody else', async (t) => {
  t.equal((await zk.create('/a-digest', 'secret', acl(`digest:${bobId}:cdrwa`))).status, 201);
  t.equal((await bob.get('/a-digest')).body.data, 'secret');
  for (const [who, c] of [['anonymous', zk], ['alice', alice], ['bob with a wrong password', zk.with(basic('bob', 'nope'))]] as const) {
    const r = await c.get('/a-digest');
    t.equal(r.status, 403, who);
    t.equal(r.body.error, 'NoAuth');
    t.equal(r.body.code, -102);
  }
});

t.test('world:anyone admits everyone, for the perms it lists', async (t) => {
  await zk.create('/a-world', 'w', acl('world:anyone:r'));
  t.equal((await alice.get('/a-world')).status, 200);
  t.equal((await alice.set('/a-world', 'x')).status, 403);
});

t.test('the auth scheme expands to the caller’s digest; with no credentials it is InvalidACL', async (t) => {
  const r = await bob.create('/a-auth', '', acl('auth::cdrwa'));
  t.equal(r.status, 201);
  t.same((await bob.getAcl('/a-auth')).body.acl, [{ scheme: 'digest', id: bobId, perms: 'cdrwa' }]);
  t.equal((await alice.get('/a-auth')).status, 403);
  const anon = await zk.create('/a-auth-anon', '', acl('auth::cdrwa'));
  t.equal(anon.status, 400);
  t.equal(anon.body.error, 'InvalidACL');
  t.equal((await zk.stat('/a-auth-anon')).status, 404);
});

t.test('an ip ACL matches the caller’s address exactly or by CIDR prefix', async (t) => {
  await zk.create('/a-ip-exact', 'e', acl('ip:127.0.0.1:r'));
  await zk.create('/a-ip-cidr', 'c', acl('ip:127.0.0.0/8:r'));
  await zk.create('/a-ip-other', 'o', acl('ip:10.0.0.0/8:r'));
  await zk.create('/a-ip-near', 'n', acl('ip:127.0.0.2:r'));
  t.equal((await zk.get('/a-ip-exact')).status, 200);
  t.equal((await zk.get('/a-ip-cidr')).status, 200);
  t.equal((await zk.get('/a-ip-other')).status, 403, 'a CIDR that excludes 127.0.0.1');
  t.equal((await zk.get('/a-ip-near')).status, 403);
});

t.test('an IPv4 id with leading zeros is read as ZooKeeper reads it (decimal), not refused', async (t) => {
  for (const [id, path] of [['127.000.000.001', '/a-ip-zeros'], ['0127.0.0.01/8', '/a-ip-zeros-cidr']]) {
    const c = await zk.create(path, 'z', acl(`ip:${id}:r`));
    t.equal(c.status, 201, `ip:${id} is a valid id`);
    t.equal((await zk.get(path)).status, 200, `ip:${id} matches 127.0.0.1`);
  }
  t.equal((await zk.create('/a-ip-zeros-bad', 'z', acl('ip:127.0.0.256:r'))).body.error, 'InvalidACL', 'past 255 it is not an address');
  t.equal((await zk.create('/a-ip-zeros-near', 'z', acl('ip:127.0.0.002:r'))).status, 201);
  t.equal((await zk.get('/a-ip-zeros-near')).status, 403, '127.0.0.002 is 127.0.0.2');
});

t.test('the configured super digest bypasses every ACL', async (t) => {
  await bob.create('/a-bobs', 'mine', acl(`digest:${bobId}:cdrwa`));
  t.equal((await root.get('/a-bobs')).body.data, 'mine');
  t.equal((await root.set('/a-bobs', 'taken')).status, 200);
  t.equal((await root.create('/a-bobs/kid')).status, 201);
  t.equal((await root.setAcl('/a-bobs', [{ scheme: 'world', id: 'anyone', perms: 'r' }])).status, 200);
  t.equal((await root.create('/zookeeper/super-was-here')).status, 201, 'even under /zookeeper');
  t.equal((await zk.with(basic('super', 'wrong')).get('/a-ip-other')).status, 403, 'the wrong super password is just another user');
});

/** A node whose ACL gives bob exactly `perm`, with a child `kid` that only super could have made. */
async function nodeFor(perm: string): Promise<string> {
  const p = `/a-perm-${perm}`;
  await root.create(p, 'data', acl(`digest:${bobId}:${perm}`));
  await root.create(`${p}/kid`);
  return p;
}

t.test('each permission allows exactly the operations ZooKeeper checks it for', async (t) => {
  for (const perm of ['c', 'd', 'r', 'w', 'a']) {
    const p = await nodeFor(perm);
    const ok = (r: { status: number }, allowed: boolean, what: string) => t.equal(r.status >= 400 ? 'denied' : 'allowed', allowed ? 'allowed' : 'denied', `${perm}: ${what}`);
    t.equal((await bob.set(`${p}/kid`, 'y')).status, 200, 'ACLs are not recursive: the child is world-writable');
    ok(await bob.create(`${p}/new`), perm === 'c', 'create a child needs CREATE on the parent');
    ok(await bob.delete(`${p}/kid`), perm === 'd', 'delete a child needs DELETE on the parent');
    ok(await bob.set(p, 'x'), perm === 'w', 'setData needs WRITE');
    ok(await bob.get(p), perm === 'r', 'getData needs READ');
    ok(await bob.children(p), perm === 'r', 'getChildren needs READ');
    ok(await bob.stat(p), perm === 'r', 'exists needs READ');
    ok(await bob.call('HEAD', zurl(p)), perm === 'r', 'HEAD needs READ');
    ok(await bob.multi([{ op: 'check', path: p, version: -1 }]), perm === 'r', 'check needs READ');
    ok(await bob.multi([{ op: 'get', path: p }]).then((r) => ({ status: r.body.results[0]?.error ? 403 : 200 })), perm === 'r', 'multiRead get needs READ');
    ok(await bob.getAcl(p), perm === 'r' || perm === 'a', 'getACL needs READ or ADMIN');
    ok(await bob.setAcl(p, [{ scheme: 'digest', id: bobId, perms: perm }]), perm === 'a', 'setACL needs ADMIN');
  }
});

t.test('getACL without ADMIN masks digest ids as user:x; with ADMIN shows them', async (t) => {
  const masked = await bob.getAcl('/a-perm-r');
  t.same(masked.body.acl, [{ scheme: 'digest', id: 'bob:x', perms: 'r' }]);
  const full = await bob.getAcl('/a-perm-a');
  t.same(full.body.acl, [{ scheme: 'digest', id: bobId, perms: 'a' }]);
});

t.test('setACL compares aversion via If-Match: stale is 412 BadVersion', async (t) => {
  await zk.create('/a-cas');
  const open: AclJson[] = [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }];
  const first = await zk.setAcl('/a-cas', open, { 'if-match': '"0"' });
  t.equal(first.status, 200);
  t.equal(first.body.stat.aversion, 1);
  const stale = await zk.setAcl('/a-cas', [{ scheme: 'world', id: 'anyone', perms: 'r' }], { 'if-match': '0' });
  t.equal(stale.status, 412);
  t.equal(stale.body.error, 'BadVersion');
  t.same((await zk.getAcl('/a-cas')).body.acl, open);
  t.equal((await zk.setAcl('/a-cas', open, { 'if-match': '1' })).status, 200);
});

t.test('getACL and setACL carry ETag "<aversion>", the value their If-Match takes (a read-modify-write loop)', async (t) => {
  await zk.create('/a-etag', 'data');
  await zk.set('/a-etag', 'data moves version, not aversion');
  const read = await zk.getAcl('/a-etag');
  t.equal(read.header('etag'), '"0"', 'getACL: the current aversion, not the data version (1)');
  const open: AclJson[] = [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }];
  const set = await zk.setAcl('/a-etag', open, { 'if-match': read.header('etag') as string });
  t.equal(set.status, 200, 'the ETag as sent back is the If-Match setACL takes');
  t.equal(set.header('etag'), '"1"', 'setACL: the new aversion');
  t.equal((await zk.setAcl('/a-etag', open, { 'if-match': set.header('etag') as string })).status, 200, 'and again');
});

t.test('setACL answers the new list and the stat; setACL on a missing node is NoNode', async (t) => {
  await zk.create('/a-set');
  const r = await zk.setAcl('/a-set', [{ scheme: 'digest', id: bobId, perms: 'rw' }, { scheme: 'world', id: 'anyone', perms: 'r' }]);
  t.equal(r.status, 200);
  t.same(r.body.acl, [{ scheme: 'digest', id: bobId, perms: 'rw' }, { scheme: 'world', id: 'anyone', perms: 'r' }]);
  t.equal(r.body.stat.aversion, 1);
  const missing = await zk.setAcl('/a-none', [{ scheme: 'world', id: 'anyone', perms: 'r' }]);
  t.equal(missing.status, 404);
  t.equal(missing.body.error, 'NoNode');
});

t.test('permissions are enforced inside multi, all or nothing', async (t) => {
  await root.create('/a-multi', '', acl(`digest:${bobId}:r`));
  const r = await bob.multi([
    { op: 'create', path: '/a-multi-ok' },
    { op: 'create', path: '/a-multi/kid' },
  ]);
  t.equal(r.status, 403);
  t.equal(r.body.error, 'NoAuth');
  t.same(r.body.results, [
    { error: 'Ok', code: 0 },
    { error: 'NoAuth', code: -102 },
  ]);
  t.equal((await zk.stat('/a-multi-ok')).status, 404);
  const s = await bob.multi([{ op: 'set', path: '/a-multi', data: 'x' }]);
  t.equal(s.status, 403);
});

t.test('errors come in ZooKeeper’s order', async (t) => {
  await root.create('/a-order', '', acl(`digest:${bobId}:r`));
  await root.create('/a-order/kid');
  const delMissing = await bob.delete('/a-order/none');
  t.equal(delMissing.body.error, 'NoAuth', 'delete: NoAuth on the parent before NoNode, as ZooKeeper 3.8.0 answers: which children exist stays hidden');
  const multiMissing = await bob.multi([{ op: 'delete', path: '/a-order/none' }]);
  t.equal(multiMissing.status, 403, 'in a multi too');
  t.same(multiMissing.body.results, [{ error: 'NoAuth', code: -102 }]);
  const delMissingParent = await bob.delete('/a-nowhere/none');
  t.equal(delMissingParent.body.error, 'NoNode');
  const delStale = await bob.delete('/a-order/kid', 'version=5');
  t.equal(delStale.body.error, 'NoAuth', 'delete: NoAuth before BadVersion');
  const exists = await bob.create('/a-order/kid');
  t.equal(exists.body.error, 'NoAuth', 'create: NoAuth on the parent before NodeExists');
  const createMissingParent = await bob.create('/a-nowhere/kid');
  t.equal(createMissingParent.body.error, 'NoNode');
  const badAclFirst = await bob.create('/a-order/kid', '', acl('nosuch:x:r'));
  t.equal(badAclFirst.body.error, 'InvalidACL', 'create: InvalidACL before parent checks');
  await root.create('/a-order-w', 'v', acl(`digest:${bobId}:r`));
  const setStale = await bob.set('/a-order-w', 'x', 'version=9');
  t.equal(setStale.body.error, 'NoAuth', 'set: NoAuth before BadVersion');
  const getAclMissing = await bob.getAcl('/a-none-at-all');
  t.equal(getAclMissing.body.error, 'NoNode');
});

t.test('a malformed Authorization header is 401 AuthFailed', async (t) => {
  for (const h of ['Bearer abc', 'Basic !!!', 'Basic ' + Buffer.from('nocolon').toString('base64'), 'Basic ' + Buffer.from(':pw').toString('base64'), 'Digest x']) {
    const r = await zk.call('GET', zurl('/a-world'), { headers: { authorization: h } });
    t.equal(r.status, 401, h);
    t.equal(r.body.error, 'AuthFailed');
    t.equal(r.body.code, -115);
  }
  const w = await zk.call('POST', zurl('/a-authfail'), { headers: { authorization: 'Bearer x' }, body: Buffer.alloc(0) });
  t.equal(w.status, 401);
  t.equal((await zk.stat('/a-authfail')).status, 404, 'a write with bad credentials changes nothing');
});

t.test('invalid ACLs in setACL are 400 InvalidACL and change nothing', async (t) => {
  await zk.create('/a-invalid');
  const bad: AclJson[][] = [
    [],
    [{ scheme: 'nosuch', id: 'x', perms: 'r' }],
    [{ scheme: 'world', id: 'everyone', perms: 'r' }],
    [{ scheme: 'digest', id: 'nohash', perms: 'r' }],
    [{ scheme: 'ip', id: '1.2.3.4/40', perms: 'r' }],
    [{ scheme: 'ip', id: 'not-an-ip', perms: 'r' }],
    [{ scheme: 'auth', id: '', perms: 'r' }],
    [{ scheme: 'world', id: 'anyone', perms: 'xyz' }],
  ];
  for (const list of bad) {
    const r = await zk.setAcl('/a-invalid', list);
    t.equal(r.status, 400, JSON.stringify(list));
    t.equal(r.body.error, 'InvalidACL', JSON.stringify(list));
  }
  t.equal((await zk.stat('/a-invalid')).body.stat.aversion, 0);
});

t.test("a `+` in ?acl= stays a plus (a digest hash is base64): the user it names gets in", async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const { createHash } = await import('node:crypto');
  // A password whose digest has a +, as about one in three has.
  let password = '';
  let hash = '';
  for (let i = 0; !hash.includes('+'); i++) {
    password = `pw${i}`;
    hash = createHash('sha1').update(`alice:${password}`).digest('base64');
  }
  const r = await fetch(`${s.url}/v1/znodes/plus?acl=digest:alice:${hash}:cdrwa`, { method: 'POST', body: 'x' });
  t.equal(r.status, 201);
  const auth = { authorization: 'Basic ' + Buffer.from(`alice:${password}`).toString('base64') };
  t.equal((await fetch(`${s.url}/v1/znodes/plus`, { headers: auth })).status, 200, 'alice reads it');
  t.equal((await fetch(`${s.url}/v1/znodes/plus`)).status, 403, 'nobody else does');
  const q = await fetch(`${s.url}/v1/znodes/?children&limit=10&after=a%20b`);
  t.equal(q.status, 200, 'a %20-escaped value is taken');
});
