// An answer is bounded as ZooKeeper's is: at most jute.maxbuffer bytes of names in a children listing (4 + the UTF-8
// bytes of each, as ZooKeeper encodes them) and of data and names in a multiRead. Before, a node's million children
// took 1.3 s of the event loop and 300 MB to list, and 600 reads of a 1 MB node in one multiRead made a string V8
// cannot hold (a 500). A larger listing is read in pages (?children&limit=N&after=NAME). A session's ephemerals are
// listed within the same bound, and /v1/admin/dump within adminListLimit entries. Here jute.maxbuffer is 4096 bytes:
// 409 names of 6 bytes fit.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { WatchClient } from '../watches/client.js';

const BUDGET = 4096;
const s = await startTestServer({ juteMaxBuffer: BUDGET, adminListLimit: 50 });
t.teardown(() => s.destroy());
const base = s.url;

const name = (i: number) => `c-${String(i).padStart(4, '0')}`;
const ALL = Array.from({ length: 1000 }, (_, i) => name(i));
const FIT = Math.floor(BUDGET / (4 + 6));

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

async function create(path: string): Promise<void> {
  const r = await call('POST', `/v1/znodes${path}`);
  if (r.status !== 201) throw new Error(`create ${path}: ${r.status} ${JSON.stringify(r.body)}`);
}

await create('/d');
for (let i = 0; i < ALL.length; i += 50) await Promise.all(ALL.slice(i, i + 50).map((n) => create(`/d/${n}`)));
await create('/small');
for (let i = 0; i < FIT; i++) await create(`/small/${name(i)}`);
await create('/half');
for (let i = 0; i < 120; i++) await create(`/half/${name(i)}`);

/** Every page of /d from `after` on, `limit` names each. */
async function pages(limit: number): Promise<{ children: string[]; more: boolean }[]> {
  const out: { children: string[]; more: boolean }[] = [];
  let after: string | undefined;
  for (let n = 0; n < 100; n++) {
    const q = `?children&limit=${limit}` + (after === undefined ? '' : `&after=${encodeURIComponent(after)}`);
    const r = await call('GET', `/v1/znodes/d${q}`);
    if (r.status !== 200) throw new Error(`page: ${r.status} ${JSON.stringify(r.body)}`);
    const page = r.body as { children: string[]; more: boolean };
    out.push(page);
    if (!page.more) break;
    after = page.children[page.children.length - 1];
  }
  return out;
}

t.test('a listing within jute.maxbuffer is answered whole, as before; a larger one is refused with how to page it', async (t) => {
  const small = await call('GET', '/v1/znodes/small?children');
  t.equal(small.status, 200);
  t.same(small.body.children, ALL.slice(0, FIT), `the ${FIT} names that fit, in order`);
  t.notOk('more' in small.body, 'an unpaged answer has no `more`');

  await create(`/small/${name(FIT)}`);
  const over = await call('GET', '/v1/znodes/small?children');
  t.equal(over.status, 400, 'one name more is refused');
  t.match(over.body, { error: 'BadArguments', code: -8, path: '/small' });
  t.match(over.body.message as string, /jute\.maxbuffer \(4096 bytes\).*\?children&limit=N&after=/, 'the message names the bound and the pages');

  const big = await call('GET', '/v1/znodes/d?children');
  t.equal(big.status, 400, 'and so is a node with 1000');
});

t.test('pages list every child once, in order, each within its limit and the byte bound', async (t) => {
  const by100 = await pages(100);
  t.equal(by100.length, 10);
  t.same(by100.flatMap((p) => p.children), ALL, 'pages of 100: every name once, in order');
  t.same(by100.map((p) => p.more), [...Array(9).fill(true), false], '`more` until the last page');

  const byBytes = await pages(10000);
  t.same(byBytes.map((p) => p.children.length), [FIT, FIT, ALL.length - 2 * FIT], 'a large limit: as many names as fit in jute.maxbuffer a page');
  t.same(byBytes.flatMap((p) => p.children), ALL);

  const last = await call('GET', `/v1/znodes/d?children&limit=5&after=${name(999)}`);
  t.same([last.body.children, last.body.more], [[], false], 'after the last name: an empty page, and no more');
  const between = await call('GET', '/v1/znodes/d?children&limit=2&after=c-0004x');
  t.same(between.body.children, [name(5), name(6)], '`after` need not be a child: the page starts after where it would sort');
  t.match(between.body.stat, { numChildren: 1000 }, 'each page carries the node\'s stat');
});

t.test('a page sees the writes just made, before LMDB has them (the pending layer), on both sides of `after`', async (t) => {
  await create('/p');
  for (const n of ['a', 'c', 'e', 'g']) await create(`/p/${n}`);
  // Straight after these writes they are applied in memory and not yet committed to LMDB.
  const r1 = await call('DELETE', '/v1/znodes/p/c');
  t.equal(r1.status, 204);
  await create('/p/b');
  await create('/p/f');
  const first = await call('GET', '/v1/znodes/p?children&limit=2');
  t.same(first.body.children, ['a', 'b']);
  const second = await call('GET', '/v1/znodes/p?children&limit=2&after=b');
  t.same(second.body.children, ['e', 'f'], 'the deleted c is not listed, the new f is');
  const third = await call('GET', '/v1/znodes/p?children&limit=2&after=f');
  t.same([third.body.children, third.body.more], [['g'], false]);
});

t.test('bad paging parameters are BadArguments', async (t) => {
  // A path is at most 1900 bytes: /d's children's names at most 1897. A longer `after` once reached LMDB as a key too
  // long for it (a 500).
  const longest = `?children&limit=1&after=${'x'.repeat(1897)}`;
  const fits = await call('GET', `/v1/znodes/d${longest}`);
  t.same([fits.status, fits.body.children], [200, []], 'an `after` as long as a name can be is taken');
  for (const q of ['?limit=3', '?children&after=x', '?children&limit=0', '?children&limit=10001', '?children&limit=abc', '?children&limit=-1', longest + 'x', `?children&limit=1&after=${'x'.repeat(5000)}`]) {
    const r = await call('GET', `/v1/znodes/d${q}`);
    t.equal(r.status, 400, q.slice(0, 40));
    t.equal(r.body.error, 'BadArguments', q.slice(0, 40));
  }
});

t.test('a multiRead answers at most jute.maxbuffer bytes: a listing too large fails its op, a total too large the request', async (t) => {
  const listing = await call('POST', '/v1/multi', { ops: [{ op: 'children', path: '/d' }, { op: 'children', path: '/p' }] });
  t.equal(listing.status, 200);
  t.same(listing.body.results, [{ error: 'BadArguments', code: -8 }, { children: ['a', 'b', 'e', 'f', 'g'], stat: (listing.body.results as { stat: unknown }[])[1]?.stat }]);

  const r = await call('PUT', '/v1/znodes/p/a', 'x'.repeat(3000));
  t.equal(r.status, 200);
  const one = await call('POST', '/v1/multi', { ops: [{ op: 'get', path: '/p/a' }] });
  t.equal(one.status, 200, 'one read of 3000 bytes fits');
  const two = await call('POST', '/v1/multi', { ops: [{ op: 'get', path: '/p/a' }, { op: 'get', path: '/p/a' }] });
  t.equal(two.status, 400, 'two do not');
  t.match(two.body, { error: 'BadArguments', message: /multiRead would be larger than jute\.maxbuffer \(4096 bytes\)/ });
  const half = await call('POST', '/v1/multi', { ops: [{ op: 'children', path: '/half' }] });
  t.equal(half.status, 200, '120 names (1200 bytes) fit');
  const mixed = await call('POST', '/v1/multi', { ops: [{ op: 'get', path: '/p/a' }, { op: 'children', path: '/half' }] });
  t.equal(mixed.status, 400, 'with the 3000 bytes of data they do not: data and names count together');
});

t.test('a watch reply carries the children within the bound: a children watch past it fails unarmed, a persistent one arms without them', async (t) => {
  const c = await WatchClient.openFor(t, base);
  const one = await c.watch('/d', 'children');
  t.match(one, { ok: false, error: 'BadArguments', code: -8 });
  const persistent = await c.watch('/d', 'persistent');
  t.match(persistent, { ok: true });
  t.notOk('children' in persistent, 'no children in the reply');
  const fits = await c.watch('/p', 'children');
  t.same(fits.children, ['a', 'b', 'e', 'f', 'g']);
  // Only the persistent watch on /d was armed: one event for it when a child is added.
  await create('/d/new');
  await c.sync();
  t.same(c.eventList(), ['NodeChildrenChanged /d'], 'the refused children watch was never armed');
});

t.test('a session lists its ephemerals within jute.maxbuffer, and says when it holds more; dump within adminListLimit', async (t) => {
  const open = await call('POST', '/v1/sessions', { timeoutMs: 30000 });
  const id = open.body.sessionId as string;
  await create('/e');
  // 330 paths of 9 bytes (/e/c-0000): 13 each as counted, 315 fit.
  const paths = Array.from({ length: 330 }, (_, i) => `/e/${name(i)}`);
  for (let i = 0; i < paths.length; i += 50) {
    await Promise.all(
      paths.slice(i, i + 50).map(async (p) => {
        const r = await fetch(`${base}/v1/znodes${p}?ephemeral`, { method: 'POST', headers: { 'zk-session': id } });
        if (r.status !== 201) throw new Error(`ephemeral ${p}: ${r.status}`);
      }),
    );
  }
  const info = await call('GET', `/v1/sessions/${id}`);
  t.equal(info.status, 200);
  t.same(info.body.ephemerals, paths.slice(0, Math.floor(BUDGET / 13)), 'the first 315, in path order');
  t.equal(info.body.ephemeralsTruncated, true);

  await call('DELETE', `/v1/znodes${paths[329]}`);
  for (const p of paths.slice(0, 20)) await call('DELETE', `/v1/znodes${p}`);
  const fewer = await call('GET', `/v1/sessions/${id}`);
  t.same(fewer.body.ephemerals, paths.slice(20, 329), 'all 309 left fit (deletes just made, in the pending layer or not)');
  t.notOk('ephemeralsTruncated' in fewer.body, 'and the flag is absent');

  const dump = await call('GET', '/v1/admin/dump');
  t.equal(dump.status, 200);
  const listed = (dump.body.sessions as { ephemerals: string[] }[]).reduce((n, x) => n + x.ephemerals.length, 0);
  t.equal(listed, 50, 'dump lists at most adminListLimit ephemerals in all');
  t.equal(dump.body.truncated, true, 'and says it cut them');
});
