// POST /v1/multi (API.md §3, ZOOKEEPER.md §3.2): all-or-nothing writes with ZooKeeper's per-op results, one
// zxid for the batch, and multiRead batches that never abort.
import t from 'tap';
import { serverFor } from './http.js';

const { zk } = await serverFor(t);

t.test('a successful multi applies every op at one zxid and answers per-op results', async (t) => {
  await zk.create('/m-ok');
  await zk.create('/m-ok/gone');
  await zk.create('/m-ok/checked');
  const r = await zk.multi([
    { op: 'create', path: '/m-ok/a', data: 'A' },
    { op: 'create', path: '/m-ok/b', data: 'Yg==', encoding: 'base64' },
    { op: 'set', path: '/m-ok/a', data: 'A2', version: 0 },
    { op: 'delete', path: '/m-ok/gone' },
    { op: 'check', path: '/m-ok/checked', version: 0 },
    { op: 'create', path: '/m-ok/s-', mode: 'PERSISTENT_SEQUENTIAL' },
  ]);
  t.equal(r.status, 200);
  const res = r.body.results;
  t.equal(res.length, 6);
  t.equal(res[0]?.op, 'create');
  t.equal(res[0]?.path, '/m-ok/a');
  t.equal(res[2]?.op, 'set');
  t.equal(res[2]?.stat?.version, 1);
  t.same(res[3], { op: 'delete' });
  t.same(res[4], { op: 'check' });
  t.equal(res[5]?.path, '/m-ok/s-0000000004', 'counts the 2 earlier children and the 2 creates in this batch');
  const zxid = r.header('zk-zxid');
  t.equal(res[0]?.stat?.czxid, zxid);
  t.equal(res[1]?.stat?.czxid, zxid);
  t.equal(res[2]?.stat?.mzxid, zxid);
  t.equal(res[5]?.stat?.czxid, zxid, 'all ops share one zxid');
  t.equal((await zk.get('/m-ok/a')).body.data, 'A2');
  t.equal((await zk.get('/m-ok/b')).body.data, 'b');
  t.equal((await zk.stat('/m-ok/gone')).status, 404);
});

t.test('a failing multi changes nothing and reports Ok / the error / RuntimeInconsistency', async (t) => {
  await zk.create('/m-fail');
  await zk.create('/m-fail/v', 'orig');
  const before = (await zk.call('POST', '/v1/sync')).body.zxid;
  const r = await zk.multi([
    { op: 'create', path: '/m-fail/new' },
    { op: 'set', path: '/m-fail/v', data: 'changed' },
    { op: 'check', path: '/m-fail/v', version: 0 },
    { op: 'delete', path: '/m-fail/v' },
  ]);
  t.equal(r.status, 412, 'the failing op decides the status');
  t.equal(r.body.error, 'BadVersion');
  t.same(r.body.results, [
    { error: 'Ok', code: 0 },
    { error: 'Ok', code: 0 },
    { error: 'BadVersion', code: -103 },
    { error: 'RuntimeInconsistency', code: -2 },
  ]);
  t.equal((await zk.stat('/m-fail/new')).status, 404);
  t.equal((await zk.get('/m-fail/v')).body.data, 'orig');
  t.equal((await zk.stat('/m-fail/v')).body.stat.version, 0);
  t.equal((await zk.stat('/m-fail')).body.stat.cversion, 1, 'the parent counters are untouched');
  t.ok(BigInt(r.header('zk-zxid') ?? '0') >= BigInt(before));
});

t.test('a multi failing on its first op reports the error then RuntimeInconsistency', async (t) => {
  const r = await zk.multi([
    { op: 'delete', path: '/m-none' },
    { op: 'create', path: '/m-none2' },
  ]);
  t.equal(r.status, 404);
  t.equal(r.body.error, 'NoNode');
  t.same(r.body.results, [
    { error: 'NoNode', code: -101 },
    { error: 'RuntimeInconsistency', code: -2 },
  ]);
  t.equal((await zk.stat('/m-none2')).status, 404);
});

t.test('a multi op that fails validation (bad path) is reported in the same convention', async (t) => {
  const r = await zk.multi([
    { op: 'create', path: '/m-valid' },
    { op: 'create', path: 'relative' },
    { op: 'create', path: '/m-valid2' },
  ]);
  t.equal(r.status, 400);
  t.equal(r.body.error, 'BadArguments');
  t.same(r.body.results, [
    { error: 'Ok', code: 0 },
    { error: 'BadArguments', code: -8 },
    { error: 'RuntimeInconsistency', code: -2 },
  ]);
  t.equal((await zk.stat('/m-valid')).status, 404);
});

t.test('an earlier op that fails on the state is reported before a later op that fails validation, as ZooKeeper prepares in order', async (t) => {
  const later: [string, Record<string, unknown>][] = [
    ['a relative path', { op: 'create', path: 'm-rel' }],
    ['an unknown mode', { op: 'create', path: '/m-x', mode: 'BOGUS' }],
    ['an ACL with an unknown scheme', { op: 'create', path: '/m-x', acl: ['nosuch:id:r'] }],
    ['an ACL with an unknown permission', { op: 'create', path: '/m-x', acl: [{ scheme: 'world', id: 'anyone', perms: 'xyz' }] }],
    ['data that is not base64', { op: 'create', path: '/m-x', data: '%%%', encoding: 'base64' }],
    ['a ttl without a TTL mode', { op: 'create', path: '/m-x', ttl: 1000 }],
  ];
  for (const [what, op] of later) {
    const r = await zk.multi([{ op: 'delete', path: '/m-nope' }, { op: 'create', path: '/m-order' }, op]);
    t.equal(r.status, 404, `${what}: the first op's status`);
    t.equal(r.body.error, 'NoNode', what);
    t.same(r.body.results, [
      { error: 'NoNode', code: -101 },
      { error: 'RuntimeInconsistency', code: -2 },
      { error: 'RuntimeInconsistency', code: -2 },
    ], `${what}: results`);
    const fine = await zk.multi([{ op: 'create', path: '/m-order' }, op]);
    t.equal(fine.status, 400, `${what}: with the ops before it able to succeed, it is the failure`);
    t.equal(fine.body.error, what.startsWith('an ACL') ? 'InvalidACL' : 'BadArguments', what);
    t.same(fine.body.results?.map((x) => x.error), ['Ok', fine.body.error], `${what}: results`);
    t.equal((await zk.stat('/m-order')).status, 404, `${what}: nothing applied`);
  }
});

t.test('a multi create with a ttl and no mode is BadArguments: the mode defaults to PERSISTENT (API.md §3)', async (t) => {
  const r = await zk.multi([{ op: 'create', path: '/m-ttl-nomode', ttl: 1000 }]);
  t.equal(r.status, 400);
  t.equal(r.body.error, 'BadArguments');
  t.same(r.body.results, [{ error: 'BadArguments', code: -8 }]);
  t.equal((await zk.stat('/m-ttl-nomode')).status, 404);
});

t.test('later ops see earlier ops of the same multi', async (t) => {
  const r = await zk.multi([
    { op: 'create', path: '/m-chain' },
    { op: 'create', path: '/m-chain/kid', data: 'k' },
    { op: 'set', path: '/m-chain/kid', data: 'k2', version: 0 },
    { op: 'delete', path: '/m-chain/kid', version: 1 },
  ]);
  t.equal(r.status, 200);
  t.equal((await zk.stat('/m-chain')).body.stat.numChildren, 0);
});

t.test('multi create modes: ephemeral needs a session, ttl and container encode their owner', async (t) => {
  const noSession = await zk.multi([{ op: 'create', path: '/m-eph', mode: 'EPHEMERAL' }]);
  t.equal(noSession.status, 400);
  t.equal(noSession.body.error, 'BadArguments');
  const sid = await zk.session();
  const r = await zk.multi(
    [
      { op: 'create', path: '/m-eph', mode: 'EPHEMERAL' },
      { op: 'create', path: '/m-ttl', mode: 'PERSISTENT_WITH_TTL', ttl: 1000 },
      { op: 'create', path: '/m-cont', mode: 'CONTAINER' },
    ],
    { 'zk-session': sid },
  );
  t.equal(r.status, 200);
  t.equal(r.body.results[0]?.stat?.ephemeralOwner, sid);
  t.equal(r.body.results[1]?.stat?.ephemeralOwner, '0x0', 'TTL: 0x0, as ZooKeeper reports it');
  t.equal(r.body.results[2]?.stat?.ephemeralOwner, '0x0', 'container: 0x0, as ZooKeeper reports it');
  const bad = await zk.multi([{ op: 'create', path: '/m-badmode', mode: 'SOMETIMES' }]);
  t.equal(bad.status, 400);
  t.equal(bad.body.error, 'BadArguments');
});

t.test('mixing read and write ops is 400 BadArguments and applies nothing', async (t) => {
  const r = await zk.multi([
    { op: 'create', path: '/m-mixed' },
    { op: 'get', path: '/' },
  ]);
  t.equal(r.status, 400);
  t.equal(r.body.error, 'BadArguments');
  t.equal((await zk.stat('/m-mixed')).status, 404);
});

t.test('multiRead answers per op and never aborts on an error', async (t) => {
  await zk.create('/m-read', 'hello');
  await zk.create('/m-read/k1');
  await zk.create('/m-bin', Buffer.from([0xff, 0xfe]));
  const r = await zk.multi([
    { op: 'get', path: '/m-read' },
    { op: 'get', path: '/m-nothing' },
    { op: 'children', path: '/m-read' },
    { op: 'get', path: '/m-bin' },
    { op: 'get', path: '/m-read', encoding: 'base64' },
    { op: 'children', path: 'bad//path' },
  ]);
  t.equal(r.status, 200);
  const [a, b, c, d, e, f] = r.body.results;
  t.equal(a?.data, 'hello');
  t.equal(a?.encoding, 'utf8');
  t.equal(a?.stat?.dataLength, 5);
  t.same(b, { error: 'NoNode', code: -101 });
  t.same(c?.children, ['k1']);
  t.equal(c?.stat?.numChildren, 1);
  t.equal(d?.encoding, 'base64');
  t.equal(d?.data, Buffer.from([0xff, 0xfe]).toString('base64'));
  t.equal(e?.data, Buffer.from('hello').toString('base64'));
  t.same(f, { error: 'BadArguments', code: -8 });
});

t.test('an empty multi is an empty result list and no transaction, as the ZooKeeper client answers it', async (t) => {
  await zk.create('/m-empty-before');
  const before = await zk.call('POST', '/v1/sync');
  const r = await zk.call('POST', '/v1/multi', { body: '{"ops":[]}', headers: { 'content-type': 'application/json' } });
  t.equal(r.status, 200);
  t.same(r.body, { results: [] });
  t.equal(r.header('zk-zxid'), before.body.zxid, 'no zxid taken');
  const after = await zk.call('POST', '/v1/sync');
  t.equal(after.body.zxid, before.body.zxid, 'the next zxid is still free');
});

t.test('malformed multi bodies are 400, never 500', async (t) => {
  const bodies: [string, string][] = [
    ['{', 'application/json'],
    ['[]', 'application/json'],
    ['{"ops":"x"}', 'application/json'],
    ['{"ops":[{"op":"explode","path":"/"}]}', 'application/json'],
    ['{"ops":[{"op":"create"}]}', 'application/json'],
    ['{"ops":[{"op":"set","path":"/","version":"x"}]}', 'application/json'],
    ['{"ops":[{"op":"create","path":"/m-b64","data":"!!!","encoding":"base64"}]}', 'application/json'],
    ['{"ops":[{"op":"create","path":"/m-acl","acl":["nonsense"]}]}', 'application/json'],
    ['ops=1', 'text/plain'],
    ['', 'application/json'],
  ];
  for (const [body, type] of bodies) {
    const r = await zk.call('POST', '/v1/multi', { body, headers: { 'content-type': type } });
    t.equal(r.status, 400, body);
    t.match(r.body.error, /^(BadArguments|MarshallingError|InvalidACL)$/, body);
  }
});

t.test('sync answers the zxid this node has applied', async (t) => {
  const c = await zk.create('/m-sync');
  const r = await zk.call('POST', '/v1/sync');
  t.equal(r.status, 200);
  t.match(r.body.zxid, /^\d+$/);
  t.ok(BigInt(r.body.zxid) >= BigInt(c.body.stat.czxid));
  t.equal(r.body.zxid, r.header('zk-zxid'));
});
