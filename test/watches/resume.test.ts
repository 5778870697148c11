// sinceZxid (resuming after a reconnect): one-shot kinds fire at once if their node changed after the zxid the client
// saw (ZooKeeper's SetWatches rules); persistent kinds replay the missed events, or get {type:"resync"} when the
// bounded history no longer reaches back. Nothing is lost silently.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { WatchClient, http } from './client.js';

const s = await startTestServer({ watchHistoryMaxEvents: 50 });
t.teardown(() => s.destroy());
const base = s.url;
const z = (p: string) => '/v1/znodes' + p;
const zxidNow = async () => Number((await http(base, 'POST', '/v1/sync')).body.zxid);

/**
 * Creates `a` and `b`, then sets b, a, b: the zxids of the three changes and the zxid before them. Whatever replays a's
 * change first has passed b's first one.
 */
async function interleaved(a: string, b: string): Promise<{ seen: number; b1: string; a1: string; b2: string }> {
  await http(base, 'POST', z(a));
  await http(base, 'POST', z(b));
  const seen = await zxidNow();
  const mz = async (path: string, v: string) => ((await http(base, 'PUT', z(path), v)).body.stat as { mzxid: string }).mzxid;
  const b1 = await mz(b, '1');
  const a1 = await mz(a, '1');
  return { seen, b1, a1, b2: await mz(b, '2') };
}

const client = (t: { teardown: (fn: () => unknown) => void }) => WatchClient.openFor(t, base);

t.test('one-shot kinds with sinceZxid fire at once for changes after it, before the reply', async (t) => {
  await http(base, 'POST', z('/r1'), 'a');
  await http(base, 'POST', z('/r1/c'));
  const seen = await zxidNow();
  const set = await http(base, 'PUT', z('/r1'), 'b');
  await http(base, 'POST', z('/r1/d'));
  const c = await client(t);
  const r = await c.watch('/r1', 'data', { sinceZxid: String(seen) });
  t.match(r, { ok: true, data: 'b' });
  t.same(c.eventList(), ['NodeDataChanged /r1']);
  t.equal(c.events()[0]?.zxid, (set.body.stat as { mzxid: string }).mzxid);
  await c.watch('/r1', 'children', { sinceZxid: seen });
  t.same(c.eventList().at(-1), 'NodeChildrenChanged /r1');
  // Fired at once means spent: a later change does not fire again.
  await http(base, 'PUT', z('/r1'), 'c');
  await c.sync();
  t.equal(c.events().length, 2);
  // Unchanged since the zxid: armed, nothing sent.
  const c2 = await client(t);
  await c2.watch('/r1', 'data', { sinceZxid: await zxidNow() });
  await c2.sync();
  t.same(c2.eventList(), []);
  await http(base, 'PUT', z('/r1'), 'd');
  await c2.sync();
  t.same(c2.eventList(), ['NodeDataChanged /r1']);
});

t.test('a data watch resumed on a node deleted since gets NodeDeleted; exists on a node created since gets NodeCreated', async (t) => {
  await http(base, 'POST', z('/r2'), 'a');
  const seen = await zxidNow();
  const d = await http(base, 'DELETE', z('/r2'));
  const cr = await http(base, 'POST', z('/r3'));
  const c = await client(t);
  t.match(await c.watch('/r2', 'data', { sinceZxid: seen }), { ok: true, stat: null });
  t.match(await c.watch('/r3', 'exists', { sinceZxid: seen }), { ok: true });
  t.same(c.eventList(), ['NodeDeleted /r2', 'NodeCreated /r3']);
  t.equal(c.events()[0]?.zxid, d.headers.get('zk-zxid'));
  t.equal(c.events()[1]?.zxid, (cr.body.stat as { czxid: string }).czxid);
});

t.test('persistent and persistentRecursive resumed with sinceZxid replay the missed events in order', async (t) => {
  await http(base, 'POST', z('/r4'));
  const seen = await zxidNow();
  await http(base, 'PUT', z('/r4'), '1');
  await http(base, 'POST', z('/r4/a'));
  await http(base, 'PUT', z('/r4/a'), '2');
  await http(base, 'DELETE', z('/r4/a'));
  const c = await client(t);
  await c.watch('/r4', 'persistent', { sinceZxid: seen });
  t.same(c.eventList(), ['NodeDataChanged /r4', 'NodeChildrenChanged /r4', 'NodeChildrenChanged /r4']);
  const c2 = await client(t);
  await c2.watch('/r4', 'persistentRecursive', { sinceZxid: seen });
  t.same(c2.eventList(), ['NodeDataChanged /r4', 'NodeCreated /r4/a', 'NodeDataChanged /r4/a', 'NodeDeleted /r4/a']);
  const zx = c2.events().map((e) => Number(e.zxid));
  t.ok(zx.every((v, i) => i === 0 || v > (zx[i - 1] as number)), 'replayed in zxid order');
  // The replayed watch is armed: live events follow.
  await http(base, 'PUT', z('/r4'), '3');
  await c2.sync();
  t.same(c2.eventList().at(-1), 'NodeDataChanged /r4');
});

t.test('when the history no longer reaches back, a persistent watch gets a resync frame, not silence', async (t) => {
  await http(base, 'POST', z('/r5'));
  const seen = await zxidNow();
  await http(base, 'PUT', z('/r5'), 'x');
  // Push the change out of the 50-event history.
  await http(base, 'POST', z('/filler'));
  for (let i = 0; i < 60; i++) await http(base, 'PUT', z('/filler'), String(i));
  const c = await client(t);
  const r = await c.watch('/r5', 'persistent', { sinceZxid: seen });
  t.match(r, { ok: true, data: 'x' });
  t.same(c.pushed, [{ type: 'resync', path: '/r5' }]);
  const c2 = await client(t);
  await c2.watch('/r5', 'persistentRecursive', { sinceZxid: seen });
  t.same(c2.pushed, [{ type: 'resync', path: '/r5' }]);
  // Unchanged since then: nothing to resync, even with the history gone.
  const c3 = await client(t);
  await c3.watch('/r5', 'persistent', { sinceZxid: (r.stat as { mzxid: string }).mzxid });
  await c3.sync();
  t.same(c3.pushed, []);
});

t.test('watches resumed together on one connection send each missed event once, in zxid order', async (t) => {
  await http(base, 'POST', z('/dup'));
  const seen = await zxidNow();
  const set = await http(base, 'PUT', z('/dup'), 'x');
  const child = await http(base, 'POST', z('/dup/c'));
  const z1 = (set.body.stat as { mzxid: string }).mzxid;
  const z2 = (child.body.stat as { czxid: string }).czxid;
  // A data watch fires first; the persistent watch then replays both changes but the first is not sent again.
  const c = await client(t);
  await c.watch('/dup', 'data', { sinceZxid: String(seen) });
  await c.watch('/dup', 'persistent', { sinceZxid: String(seen) });
  t.same(c.events().map((e) => `${e.event}@${e.zxid}`), [`NodeDataChanged@${z1}`, `NodeChildrenChanged@${z2}`]);
  // The other way round: the data watch's event was already delivered by the replay, and fires the data watch
  // all the same (it is spent), without a second frame.
  const d = await client(t);
  await d.watch('/dup', 'persistent', { sinceZxid: String(seen) });
  await d.watch('/dup', 'data', { sinceZxid: String(seen) });
  await d.watch('/dup', 'children', { sinceZxid: String(seen) });
  t.same(d.events().map((e) => `${e.event}@${e.zxid}`), [`NodeDataChanged@${z1}`, `NodeChildrenChanged@${z2}`]);
  t.match(await d.request({ op: 'unwatch', path: '/dup', kind: 'data' }), { ok: false, error: 'NoWatcher' }, 'the data watch was spent');
  t.match(await d.request({ op: 'unwatch', path: '/dup', kind: 'children' }), { ok: false, error: 'NoWatcher' }, 'so was the children watch');
  // Live events after the resumes come once each too.
  await http(base, 'PUT', z('/dup'), 'y');
  await c.sync();
  await d.sync();
  t.same(c.eventList().slice(2), ['NodeDataChanged /dup']);
  t.same(d.eventList().slice(2), ['NodeDataChanged /dup']);
});

t.test('a resume frame re-arms many watches from one zxid: what they missed comes merged in zxid order, each once, exact', async (t) => {
  const { seen, b1, a1, b2 } = await interleaved('/ra', '/rb');
  // /ra first: as separate watch frames, its replay (a1) would leave /rb's b1 behind the connection's newest event.
  const c = await client(t);
  const r = await c.request({
    op: 'resume',
    sinceZxid: String(seen),
    watches: [
      { path: '/ra', kind: 'persistent' },
      { path: '/rb', kind: 'persistent' },
      { path: '/rb', kind: 'data' },
      { path: 'relative', kind: 'data' },
    ],
  });
  t.equal(r.ok, true);
  const results = r.results as { ok: boolean; data?: string; error?: string; id?: unknown }[];
  t.same(results.map((x) => [x.ok, x.data ?? x.error]), [[true, '1'], [true, '2'], [true, '2'], [false, 'BadArguments']], 'a result per watch, in order; a bad one is its own error');
  t.notOk(results.some((x) => 'id' in x), 'results carry no id of their own');
  t.same(
    c.events().map((e) => `${e.event} ${e.path}@${e.zxid}`),
    [`NodeDataChanged /rb@${b1}`, `NodeDataChanged /ra@${a1}`, `NodeDataChanged /rb@${b2}`],
    'every missed change, in zxid order, once (the data watch on /rb shares b1 with the persistent one)',
  );
  t.notOk(c.pushed.some((f) => f.type === 'resync'), 'no resync');
  t.match(await c.request({ op: 'unwatch', path: '/rb', kind: 'data' }), { ok: false, error: 'NoWatcher' }, 'the one-shot fired');
  await http(base, 'PUT', z('/ra'), '2');
  await c.sync();
  t.same(c.eventList().at(-1), 'NodeDataChanged /ra', 'the persistent watches stay armed');
});

t.test('a watch resumed from before events its connection already got sends nothing older than them', async (t) => {
  await http(base, 'POST', z('/old'));
  await http(base, 'POST', z('/old2'));
  await http(base, 'POST', z('/live'));
  const seen = await zxidNow();
  await http(base, 'PUT', z('/old'), 'a');
  const old2 = await http(base, 'PUT', z('/old2'), 'a');
  const c = await client(t);
  await c.watch('/live', 'persistent');
  const live = await http(base, 'PUT', z('/live'), 'a');
  await c.sync();
  t.same(c.eventList(), ['NodeDataChanged /live']);
  const mark = live.headers.get('zk-zxid');
  // /old changed before the event the connection holds: its replay cannot go in order, so the client re-reads.
  const r = await c.watch('/old', 'persistent', { sinceZxid: String(seen) });
  t.match(r, { ok: true, data: 'a' });
  t.same(c.pushed.at(-1), { type: 'resync', path: '/old' });
  // A one-shot watch whose change predates it fires at the connection's newest zxid, by which it had happened.
  await c.watch('/old2', 'data', { sinceZxid: String(seen) });
  t.same(c.events().at(-1), { type: 'event', event: 'NodeDataChanged', path: '/old2', zxid: mark });
  t.ok(Number((old2.body.stat as { mzxid: string }).mzxid) < Number(mark));
  t.match(await c.request({ op: 'unwatch', path: '/old2', kind: 'data' }), { ok: false, error: 'NoWatcher' }, 'and is spent');
  // Resumed again from the same point: the connection already has that event; nothing is sent twice.
  await c.watch('/old2', 'exists', { sinceZxid: String(seen) });
  await http(base, 'PUT', z('/old'), 'b');
  await c.sync();
  t.same(c.eventList(), ['NodeDataChanged /live', 'NodeDataChanged /old2', 'NodeDataChanged /old']);
  const zx = c.events().map((e) => Number(e.zxid));
  t.ok(zx.every((v, i) => i === 0 || v >= (zx[i - 1] as number)), `zxids never go back: ${zx.join(' ')}`);
});

t.test('sinceZxid must be a zxid', async (t) => {
  const c = await client(t);
  t.match(await c.watch('/', 'data', { sinceZxid: 'x1' }), { ok: false, error: 'BadArguments', code: -8 });
  t.match(await c.watch('/', 'data', { sinceZxid: -1 }), { ok: false, error: 'BadArguments' });
});

t.test('resume frames held with more:true and the one that completes them resume as one frame: every missed event once, in zxid order', async (t) => {
  const { seen, b1, a1, b2 } = await interleaved('/ma', '/mb');
  const frames = [
    { watches: [{ path: '/ma', kind: 'persistent' }] },
    { watches: [{ path: '/mb', kind: 'persistent' }, { path: '/mb', kind: 'data' }] },
  ];

  const c = await client(t);
  const first = await c.request({ op: 'resume', sinceZxid: String(seen), more: true, ...frames[0] });
  t.same(first, { id: first.id, ok: true, held: 1 }, 'a held frame is acknowledged with the count held, no zxid, no results');
  // Frames between held ones are handled as usual; the held watches are not armed yet.
  t.match(await c.request({ op: 'ping' }), { ok: true });
  t.match(await c.request({ op: 'unwatch', path: '/ma', kind: 'persistent' }), { ok: false, error: 'NoWatcher' });
  t.same(c.pushed, [], 'nothing replayed before the batch completes');
  const r = await c.request({ op: 'resume', sinceZxid: seen, ...frames[1] });
  t.equal(r.ok, true);
  t.same((r.results as { data?: string }[]).map((x) => x.data), ['1', '2', '2'], 'results for every watch of the batch, in the order sent');
  t.same(
    c.events().map((e) => `${e.event} ${e.path}@${e.zxid}`),
    [`NodeDataChanged /mb@${b1}`, `NodeDataChanged /ma@${a1}`, `NodeDataChanged /mb@${b2}`],
    'one merged replay: b1 is not lost behind a1',
  );
  t.notOk(c.pushed.some((f) => f.type === 'resync'), 'no resync');
  await http(base, 'PUT', z('/ma'), '2');
  await c.sync();
  t.same(c.eventList().at(-1), 'NodeDataChanged /ma', 'the held watches are armed');

  // The same frames without more: the first one's replay (a1) leaves /mb's b1 behind; it can only resync or fire late.
  const d = await client(t);
  await d.request({ op: 'resume', sinceZxid: String(seen), ...frames[0] });
  await d.request({ op: 'resume', sinceZxid: String(seen), ...frames[1] });
  t.same(d.pushed.filter((f) => f.type === 'resync'), [{ type: 'resync', path: '/mb' }]);
  t.notOk(d.events().some((e) => e.zxid === b1), 'b1 itself never comes');
});

t.test('a held resume frame with another sinceZxid is refused; what was held stays', async (t) => {
  await http(base, 'POST', z('/mc'));
  const seen = await zxidNow();
  const c1 = await http(base, 'PUT', z('/mc'), '1');
  const c = await client(t);
  t.match(await c.request({ op: 'resume', sinceZxid: String(seen), more: true, watches: [{ path: '/mc', kind: 'persistent' }] }), { ok: true, held: 1 });
  t.match(await c.request({ op: 'resume', sinceZxid: String(seen - 1), more: true, watches: [{ path: '/mc', kind: 'data' }] }), {
    ok: false,
    error: 'BadArguments',
    code: -8,
    message: /sinceZxid/,
  });
  t.match(await c.request({ op: 'resume', sinceZxid: String(seen + 1), watches: [{ path: '/mc', kind: 'data' }] }), { ok: false, error: 'BadArguments' }, 'the completing frame too');
  const r = await c.request({ op: 'resume', sinceZxid: String(seen), watches: [{ path: '/mc', kind: 'exists' }] });
  t.equal((r.results as unknown[]).length, 2, 'the batch is the first held frame and the completing one');
  t.same(c.events().map((e) => `${e.event}@${e.zxid}`), [`NodeDataChanged@${(c1.body.stat as { mzxid: string }).mzxid}`]);
});
