// getData, getChildren2, exists and HEAD over REST (API.md §3): encodings, raw bytes, sorting, 404s.
import t from 'tap';
import { serverFor, zurl } from './http.js';

const { zk } = await serverFor(t);

t.test('get returns utf8 data with its stat and an ETag of the version', async (t) => {
  await zk.create('/r-utf8', 'héllo');
  const r = await zk.get('/r-utf8');
  t.equal(r.status, 200);
  t.equal(r.body.path, '/r-utf8');
  t.equal(r.body.data, 'héllo');
  t.equal(r.body.encoding, 'utf8');
  t.equal(r.body.stat.dataLength, Buffer.byteLength('héllo'));
  t.equal(r.header('etag'), '"0"');
});

t.test('get of bytes that are not UTF-8 answers base64', async (t) => {
  const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80]);
  await zk.create('/r-bin', bytes);
  const r = await zk.get('/r-bin');
  t.equal(r.body.encoding, 'base64');
  t.same(Buffer.from(r.body.data, 'base64'), bytes);
});

t.test('?encoding=base64 forces base64 for UTF-8 data', async (t) => {
  await zk.create('/r-force', 'plain text');
  const r = await zk.get('/r-force', 'encoding=base64');
  t.equal(r.body.encoding, 'base64');
  t.equal(Buffer.from(r.body.data, 'base64').toString(), 'plain text');
});

t.test('Accept: application/octet-stream returns the raw bytes with the stat in headers', async (t) => {
  const bytes = Buffer.from([1, 2, 3, 0xff, 0]);
  await zk.create('/r-raw', bytes);
  await zk.set('/r-raw', bytes);
  const r = await zk.get('/r-raw', '', { accept: 'application/octet-stream' });
  t.equal(r.status, 200);
  t.match(r.header('content-type'), /application\/octet-stream/);
  t.same(r.raw, bytes);
  t.equal(r.header('etag'), '"1"');
  const stat = JSON.parse(r.header('zk-stat') ?? '{}') as { version: number; dataLength: number };
  t.equal(stat.version, 1);
  t.equal(stat.dataLength, 5);
});

t.test('empty data reads back as an empty utf8 string', async (t) => {
  await zk.create('/r-empty');
  const r = await zk.get('/r-empty');
  t.equal(r.body.data, '');
  t.equal(r.body.encoding, 'utf8');
  t.equal(r.body.stat.dataLength, 0);
});

t.test('?children lists the names sorted, with the parent stat', async (t) => {
  await zk.create('/r-kids');
  for (const name of ['zeta', 'alpha', 'Mid', '10', '9', 'beta']) t.equal((await zk.create(`/r-kids/${name}`)).status, 201);
  const r = await zk.children('/r-kids');
  t.equal(r.status, 200);
  t.equal(r.body.path, '/r-kids');
  t.same(r.body.children, ['10', '9', 'Mid', 'alpha', 'beta', 'zeta']);
  t.equal(r.body.stat.numChildren, 6);
});

t.test('?children of a childless node is an empty list', async (t) => {
  await zk.create('/r-leaf');
  t.same((await zk.children('/r-leaf')).body.children, []);
});

t.test('?stat answers only the stat', async (t) => {
  await zk.create('/r-stat', 'abc');
  const r = await zk.stat('/r-stat');
  t.equal(r.status, 200);
  t.equal(r.body.path, '/r-stat');
  t.equal(r.body.stat.dataLength, 3);
  t.equal(r.body.data, undefined);
});

t.test('HEAD is 200 for an existing node and 404 for a missing one, with no body', async (t) => {
  await zk.create('/r-head');
  const yes = await zk.call('HEAD', zurl('/r-head'));
  t.equal(yes.status, 200);
  t.equal(yes.raw.length, 0);
  t.ok(yes.header('zk-zxid'));
  const no = await zk.call('HEAD', zurl('/r-head-missing'));
  t.equal(no.status, 404);
  t.equal(no.raw.length, 0);
});

t.test('reads of a missing node are 404 NoNode naming the path', async (t) => {
  for (const q of ['', 'children', 'stat']) {
    const r = await zk.get('/r-missing', q);
    t.equal(r.status, 404, q);
    t.equal(r.body.error, 'NoNode');
    t.equal(r.body.code, -101);
    t.equal(r.body.path, '/r-missing');
  }
});

t.test('the root is readable at /v1/znodes/ and /v1/znodes', async (t) => {
  const a = await zk.call('GET', '/v1/znodes/?stat');
  t.equal(a.status, 200);
  t.equal(a.body.path, '/');
  const b = await zk.call('GET', '/v1/znodes');
  t.equal(b.status, 308);
  t.equal(b.header('location'), '/v1/znodes/');
});
