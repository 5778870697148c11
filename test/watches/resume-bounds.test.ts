// What one resume batch may cost the server: a watch listed many times is read and armed once (its result repeated),
// the reply is bounded by wsMaxReplyBytes (past it the batch is refused and nothing of it armed), and many recursive
// roots are resumed from one pass over the change history, each with exactly its own missed events.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { WatchClient, http } from './client.js';

const s = await startTestServer({ wsMaxReplyBytes: 4096 });
t.teardown(() => s.destroy());
const base = s.url;
const z = (p: string) => '/v1/znodes' + p;
const zxidNow = async () => Number((await http(base, 'POST', '/v1/sync')).body.zxid);

const client = (t: { teardown: (fn: () => unknown) => void }) => WatchClient.openFor(t, base);

t.test('a watch listed many times in a batch: one result per listing, its missed event once, armed once', async (t) => {
  await http(base, 'POST', z('/dup'), 'a');
  const seen = await zxidNow();
  const missed = ((await http(base, 'PUT', z('/dup'), 'b')).body.stat as { mzxid: string }).mzxid;
  const c = await client(t);
  const watches = Array.from({ length: 12 }, () => ({ path: '/dup', kind: 'persistent' }));
  const r = await c.request({ op: 'resume', sinceZxid: String(seen), watches });
  t.equal(r.ok, true);
  const results = r.results as { ok: boolean; data: string }[];
  t.equal(results.length, 12, 'a result for every listing');
  t.ok(results.every((x) => x.ok && x.data === 'b'), 'each the state the watch was armed at');
  t.same(c.eventList(), ['NodeDataChanged /dup'], 'the missed change once');
  t.equal(c.events()[0]?.zxid, missed);
  await http(base, 'PUT', z('/dup'), 'c');
  await c.sync();
  t.same(c.eventList(), ['NodeDataChanged /dup', 'NodeDataChanged /dup'], 'the next change once: one watch');
});

t.test('a batch whose reply would pass wsMaxReplyBytes is refused, with nothing armed, sent or held', async (t) => {
  await http(base, 'POST', z('/big'), 'x'.repeat(1500));
  await http(base, 'POST', z('/small'), 's');
  const seen = await zxidNow();
  await http(base, 'PUT', z('/big'), 'y'.repeat(1500));
  const c = await client(t);
  const held = await c.request({ op: 'resume', sinceZxid: String(seen), more: true, watches: [{ path: '/small', kind: 'data' }] });
  t.match(held, { ok: true, held: 1 });
  const kinds = ['data', 'exists', 'persistent'].map((kind) => ({ path: '/big', kind }));
  const r = await c.request({ op: 'resume', sinceZxid: String(seen), watches: kinds });
  t.match(r, { ok: false, error: 'BadArguments', code: -8, message: /wsMaxReplyBytes \(4096 bytes\)/ });
  t.same(c.pushed, [], 'no missed event and no resync went out');
  await http(base, 'PUT', z('/big'), 'z');
  await http(base, 'PUT', z('/small'), 't');
  await c.sync();
  t.same(c.events(), [], 'none of the batch was armed, the held frame included');

  // Smaller batches go through; the held frame was dropped with the refused one.
  const one = await c.request({ op: 'resume', sinceZxid: String(seen), watches: [{ path: '/big', kind: 'persistent' }] });
  t.equal(one.ok, true);
  t.equal((one.results as unknown[]).length, 1, 'only its own watch: nothing was still held');
  const bigSets = c.events().filter((e) => e.path === '/big').length;
  t.equal(bigSets, 2, 'its two missed changes');
});

t.test('one watch whose own reply passes wsMaxReplyBytes is still answered: the bound is on what a batch adds up to', async (t) => {
  await http(base, 'POST', z('/huge'), 'h'.repeat(6000));
  const c = await client(t);
  const r = await c.request({ op: 'resume', sinceZxid: String(await zxidNow()), watches: [{ path: '/huge', kind: 'data' }] });
  t.equal(r.ok, true);
  t.equal(((r.results as { data: string }[])[0]?.data ?? '').length, 6000);
});

t.test('recursive watches on several roots resumed together each replay exactly their own subtree', async (t) => {
  for (const p of ['/ra', '/ra/x', '/rb', '/rb/y', '/rab']) await http(base, 'POST', z(p));
  const seen = await zxidNow();
  await http(base, 'PUT', z('/ra/x'), '1');
  await http(base, 'PUT', z('/rab'), '1');
  await http(base, 'PUT', z('/rb/y'), '1');
  await http(base, 'POST', z('/ra/x/deep'));
  await http(base, 'PUT', z('/rb'), '2');
  const c = await client(t);
  const r = await c.request({
    op: 'resume',
    sinceZxid: String(seen),
    watches: [
      { path: '/ra', kind: 'persistentRecursive' },
      { path: '/rb/y', kind: 'persistentRecursive' },
      { path: '/nothing-here', kind: 'persistentRecursive' },
    ],
  });
  t.equal(r.ok, true);
  t.same(
    c.eventList(),
    ['NodeDataChanged /ra/x', 'NodeDataChanged /rb/y', 'NodeCreated /ra/x/deep'],
    'in zxid order; not /rab (a sibling with the same prefix), not /rb (above a root)',
  );
});
