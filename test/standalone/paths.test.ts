// Znode paths in URLs (API.md §2): ZooKeeper's path rules, percent-decoding, and the reserved /zookeeper subtree.
import t from 'tap';
import { serverFor } from './http.js';

const { zk } = await serverFor(t);

t.test('a fresh root has exactly the child "zookeeper", as ZooKeeper starts', async (t) => {
  const r = await zk.children('/');
  t.same(r.body.children, ['zookeeper']);
  t.equal(r.body.stat.numChildren, 1);
  t.equal(r.body.stat.cversion, -1, 'ZooKeeper reports 2×0 − 1 for the fresh root');
  t.same((await zk.children('/zookeeper')).body.children, ['config', 'quota']);
});

t.test('deleting /, /zookeeper or its reserved children is BadArguments', async (t) => {
  for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
    const r = await zk.delete(p, p === '/' ? '' : 'recursive');
    t.equal(r.status, 400, p);
    t.equal(r.body.error, 'BadArguments', p);
  }
  t.equal((await zk.stat('/zookeeper/config')).status, 200);
});

t.test('writing under /zookeeper is NoAuth', async (t) => {
  const c = await zk.create('/zookeeper/mine');
  t.equal(c.status, 403);
  t.equal(c.body.error, 'NoAuth');
  const s = await zk.set('/zookeeper/config', 'x');
  t.equal(s.status, 403);
  t.equal(s.body.error, 'NoAuth');
  t.same((await zk.children('/zookeeper')).body.children, ['config', 'quota']);
});

t.test('bad paths are 400 BadArguments and create nothing', async (t) => {
  const bad = [
    '/v1/znodes/a//b', // empty segment
    '/v1/znodes/trailing/', // trailing slash
    '/v1/znodes/a/./b',
    '/v1/znodes/a/../b',
    '/v1/znodes/..',
    '/v1/znodes/%2E%2E',
    '/v1/znodes/ctl%01char',
    '/v1/znodes/nul%00',
    '/v1/znodes/del%7F',
    '/v1/znodes/c1%C2%85', // U+0085, a C1 control
    '/v1/znodes/astral%F0%9F%98%80', // a surrogate pair in UTF-16
    '/v1/znodes/enc%2F',
    '/v1/znodes/%2F%2Fdouble',
    '/v1/znodes/%2F/a',
    '/v1/znodes/bad%ZZescape',
  ];
  for (const url of bad) {
    const r = await zk.call('POST', url, { body: Buffer.alloc(0) });
    t.equal(r.status, 400, url);
    t.equal(r.body.error, 'BadArguments', url);
    t.equal(r.body.code, -8);
  }
  t.same((await zk.children('/')).body.children, ['zookeeper'], 'nothing was created');
});

t.test('a %2F in the URL is a separator, as Swagger UI encodes a nested path parameter; one in front makes it absolute', async (t) => {
  t.equal((await zk.call('POST', '/v1/znodes/enc%2Fslash?parents', { body: 'v' })).body.path, '/enc/slash', 'create');
  for (const url of ['/v1/znodes/enc%2Fslash', '/v1/znodes/enc%2fslash', '/v1/znodes/%2Fenc%2Fslash', '/v1/znodes/enc/slash']) {
    const r = await zk.call('GET', url);
    t.equal(r.status, 200, url);
    t.equal(r.body.path, '/enc/slash', url);
    t.equal(r.body.data, 'v', url);
  }
  t.equal((await zk.call('GET', '/v1/znodes/enc%2Fslash?stat')).body.path, '/enc/slash', 'the route as well as the fast path');
  t.equal((await zk.call('PUT', '/v1/znodes/%2Fenc%2Fslash', { body: 'w' })).status, 200, 'set');
  t.equal((await zk.call('GET', '/v1/acl/enc%2Fslash')).status, 200, 'getACL');
  const root = await zk.call('GET', '/v1/znodes/%2F?children');
  t.ok(root.body.children?.includes('enc'), '%2F alone is the root');
  t.equal((await zk.call('DELETE', '/v1/znodes/enc%2Fslash')).status, 204, 'delete');
  t.equal((await zk.get('/enc/slash')).status, 404);
  await zk.delete('/enc');
});

t.test('bad paths are BadArguments for reads too', async (t) => {
  for (const url of ['/v1/znodes/a//b', '/v1/znodes/x/', '/v1/znodes/%2E']) {
    const r = await zk.call('GET', url);
    t.equal(r.status, 400, url);
    t.equal(r.body.error, 'BadArguments');
  }
});

t.test('percent-encoded segments are decoded into the znode name', async (t) => {
  const r = await zk.call('POST', '/v1/znodes/with%20space%3Fand%23hash', { body: Buffer.alloc(0) });
  t.equal(r.status, 201);
  t.equal(r.body.path, '/with space?and#hash');
  t.equal(r.header('location'), '/v1/znodes/with%20space%3Fand%23hash');
  t.equal((await zk.stat('/with space?and#hash')).status, 200);
  const u = await zk.create('/unicodé-名前');
  t.equal(u.status, 201);
  t.equal(u.body.path, '/unicodé-名前');
  t.ok((await zk.children('/')).body.children.includes('unicodé-名前'));
});

t.test('a + in a path is a plus, not a space', async (t) => {
  const r = await zk.call('POST', '/v1/znodes/a+b', { body: Buffer.alloc(0) });
  t.equal(r.status, 201);
  t.equal(r.body.path, '/a+b');
});

t.test('paths over the length bound are BadArguments, also when the router rejects them first', async (t) => {
  t.equal((await zk.create('/' + 'x'.repeat(1800))).status, 201, 'a long name within the bound is fine');
  for (const n of [1950, 5000]) {
    const r = await zk.call('POST', '/v1/znodes/' + 'y'.repeat(n), { body: Buffer.alloc(0) });
    t.equal(r.status, 400, `${n} bytes`);
    t.equal(r.body.error, 'BadArguments');
    t.ok(r.header('zk-zxid'));
  }
});

t.test('a refused path is repeated in its error only up to 256 characters, however long the URL', async (t) => {
  for (const path of ['/' + 'z'.repeat(14000), '/' + '%01'.repeat(5000)]) {
    const r = await zk.call('POST', '/v1/znodes' + path, { body: Buffer.alloc(0) });
    t.equal(r.status, 400);
    t.equal(r.body.error, 'BadArguments');
    // 256 characters, twice (path and message); a control character is 6 bytes escaped in `path`, 7 in `message`.
    t.ok(r.raw.length < 4096, `the error is ${r.raw.length} bytes`);
    t.match(r.body.path, /… \(\d+ characters\)$/, 'the path field says how long the path was');
    t.match(r.body.message, /characters\)"/);
  }
  const short = await zk.call('POST', '/v1/znodes/a//b', { body: Buffer.alloc(0) });
  t.equal(short.body.path, '/a//b', 'a short path is repeated whole');
});

t.test('a dot inside a name is fine', async (t) => {
  t.equal((await zk.create('/.hidden.name..x')).status, 201);
});
