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

async function client(t: { teardown: (fn: () => unknown) => void }): Promise<WatchClient> {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  return c;
}

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
  await http(base, 'POST', z('/ra'));
  await http(base, 'POST', z('/rb'));
  const seen = await zxidNow();
  const b1 = await http(base, 'PUT', z('/rb'), '1');
  const a1 = await http(base, 'PUT', z('/ra'), '1');
  const b2 = await http(base, 'PUT', z('/rb'), '2');
  const mz = (r: { body: Record<string, unknown> }) => (r.body.stat as { mzxid: string }).mzxid;
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
    [`NodeDataChanged /rb@${mz(b1)}`, `NodeDataChanged /ra@${mz(a1)}`, `NodeDataChanged /rb@${mz(b2)}`],
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
