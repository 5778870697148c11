// The SDK against a real server: typed REST operations, watches, connection and session states, failover along the
// server list, reconnect with watch re-arming after a restart, and retries only where they are safe.
import t from 'tap';
import { freePort, startTestServer, tempDir } from '../helpers/server.js';
import { ZkClient, ZkClientError, isZkError, type WatchedEvent, type ConnectionState } from '../../client/index.js';
import { blackhole, eventually } from './fixtures.js';

const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);

t.test('every REST operation answers with typed results and ZooKeeper errors', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const c = await ZkClient.connect({ servers: s.url });
  t.teardown(() => c.close());
  t.equal(c.state, 'SyncConnected');
  t.match(c.sessionId, /^0x[0-9a-f]+$/);

  const created = await c.create('/app/config', 'v1', { parents: true });
  t.equal(created.path, '/app/config');
  t.equal(created.stat.version, 0);
  const bin = new Uint8Array([0, 255, 128, 1]);
  await c.create('/app/bin', bin);
  t.same([...(await c.getData('/app/bin')).data], [0, 255, 128, 1], 'binary data round-trips');
  t.equal((await c.getString('/app/config')).data, 'v1');
  t.equal(await c.exists('/app/none'), null, 'exists of a missing node is null');
  const seq = await c.create('/app/job-', 'j', { mode: 'PERSISTENT_SEQUENTIAL' });
  t.match(seq.path, /^\/app\/job-\d{10}$/);
  const eph = await c.create('/app/me', '', { mode: 'EPHEMERAL' });
  t.equal(eph.stat.ephemeralOwner, c.sessionId, 'an ephemeral belongs to the client session');
  t.same((await c.getSessionInfo()).ephemerals, ['/app/me']);
  t.same((await c.getChildren('/app')).children, ['bin', 'config', seq.path.slice(5), 'me'].sort());

  const st = await c.setData('/app/config', 'v2', 0);
  t.equal(st.version, 1);
  const bad = await c.setData('/app/config', 'v3', 0).catch((e: unknown) => e);
  t.ok(bad instanceof ZkClientError && bad.zkName === 'BadVersion' && bad.code === -103 && bad.status === 412, 'stale CAS is BadVersion');
  const missing = await c.getData('/nope').catch((e: unknown) => e);
  t.ok(isZkError(missing, 'NoNode'), 'missing node is NoNode');

  const results = await c.multi([
    { op: 'check', path: '/app/config', version: 1 },
    { op: 'create', path: '/app/m', data: 'x', mode: 'PERSISTENT' },
    { op: 'set', path: '/app/m', data: new Uint8Array([1, 2]) },
  ]);
  t.same(results.map((r) => r.op), ['check', 'create', 'set']);
  const failed = await c.multi([{ op: 'delete', path: '/app/m' }, { op: 'delete', path: '/app/absent' }]).catch((e: unknown) => e);
  t.ok(isZkError(failed, 'NoNode'), 'a failed multi throws the failing op');
  t.match((failed as ZkClientError).opts.results, [{ error: 'Ok' }, { error: 'NoNode' }]);
  t.ok(await c.exists('/app/m'), 'nothing of the failed multi applied');
  const reads = await c.multiRead([{ op: 'get', path: '/app/m' }, { op: 'children', path: '/app' }, { op: 'get', path: '/absent' }]);
  t.same([...(reads[0] as { data: Uint8Array }).data], [1, 2]);
  t.ok('children' in (reads[1] as object));
  t.match(reads[2], { error: 'NoNode' });

  t.same((await c.getAcl('/app/config')).acl, [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }]);
  const aclStat = await c.setAcl('/app/config', [{ scheme: 'world', id: 'anyone', perms: 'rwa' }], 0);
  t.equal(aclStat.aversion, 1);
  const noDelete = await c.setAcl('/app/config', [{ scheme: 'world', id: 'anyone', perms: 'r' }], 0).catch((e: unknown) => e);
  t.ok(isZkError(noDelete, 'BadVersion'), 'setAcl checks aversion');
  await c.delete('/app/job-' + seq.path.slice(-10), 0);
  t.match(await c.sync(), /^\d+$/);
  t.ok(c.lastZxid >= Number((await c.exists('/app/m'))?.mzxid), 'the client tracks the highest zxid it has seen');
  t.equal(await c.admin('ruok'), 'imok');
});

/** A server, a client with a session that writes, and one without a session that watches. */
async function writerAndWatcher(t: { teardown(fn: () => unknown): void }): Promise<{ c: ZkClient; w: ZkClient }> {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const [c, w] = [await ZkClient.connect({ servers: s.url }), await ZkClient.connect({ servers: s.url, session: false })];
  t.teardown(() => Promise.all([c.close(), w.close()]));
  return { c, w };
}

t.test('cancelling a data watch leaves an exists watch on the same path armed, though the server unwatches both together', async (t) => {
  const { c, w } = await writerAndWatcher(t);
  await c.create('/sib', 'a');
  const data: WatchedEvent[] = [];
  const exists: WatchedEvent[] = [];
  const d = await w.watch('/sib', 'data', (e) => data.push(e));
  await w.watch('/sib', 'exists', (e) => exists.push(e));
  d.cancel();
  await c.setData('/sib', 'b');
  await eventually(() => exists.length, (n) => n >= 1);
  t.same(exists.map((e) => e.type), ['NodeDataChanged'], 'the exists watch fired');
  t.same(data, [], 'the cancelled one did not');
});

t.test('watches: one-shot fires once, persistentRecursive on every change below, cancel stops delivery', async (t) => {
  const { c, w } = await writerAndWatcher(t);
  await c.create('/w', 'a');
  const once: WatchedEvent[] = [];
  const h = await w.watch('/w', 'data', (e) => once.push(e));
  t.equal(utf8(h.data as Uint8Array), 'a', 'the reply carries the state the watch was armed against');
  const tree: WatchedEvent[] = [];
  const rec = await w.watch('/w', 'persistentRecursive', (e) => tree.push(e));
  await c.setData('/w', 'b');
  await c.setData('/w', 'c');
  await c.create('/w/x', '');
  await c.delete('/w/x');
  await eventually(() => tree.length, (n) => n >= 4);
  t.same(once.map((e) => e.type), ['NodeDataChanged'], 'the one-shot watch fired once');
  t.same(tree.map((e) => `${e.type} ${e.path}`), ['NodeDataChanged /w', 'NodeDataChanged /w', 'NodeCreated /w/x', 'NodeDeleted /w/x']);
  const zs = tree.map((e) => Number(e.zxid));
  t.same(zs, [...zs].sort((a, b) => a - b), 'events in zxid order');
  rec.cancel();
  await c.setData('/w', 'd');
  const late = await w.watch('/w', 'exists', () => {});
  late.cancel();
  t.equal(tree.length, 4, 'a cancelled watch hears nothing more');
  const { state, fired } = await w.watchOnce('/w/none', 'exists');
  t.equal(state.stat, null);
  await c.create('/w/none', '');
  t.equal((await fired).type, 'NodeCreated');
});

t.test('states: SyncConnected, then Expired when the session is closed elsewhere, Closed after close', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const c = await ZkClient.connect({ servers: s.url });
  const states: ConnectionState[] = [];
  c.onState((st) => states.push(st));
  const other = await ZkClient.connect({ servers: s.url, session: false });
  t.teardown(() => other.close());
  const gone = new Promise<Error>((resolve) => void c.watch('/', 'persistent', () => {}, { onGone: resolve }));
  await other.closeSession(c.sessionId as string);
  await eventually(() => c.state, (st) => st === 'Expired');
  t.same(states, ['Expired']);
  t.ok(isZkError(await gone, 'SessionExpired'), 'watches of an expired session are told they are gone');
  const after = await c.create('/e', '', { mode: 'EPHEMERAL' }).catch((e: unknown) => e);
  t.ok(isZkError(after, 'SessionExpired'), 'requests in an expired session are SessionExpired');
  await c.close();
  t.equal(c.state, 'Closed');
  const d = await ZkClient.connect({ servers: s.url });
  await d.create('/mine', '', { mode: 'EPHEMERAL' });
  await d.close();
  t.equal(d.state, 'Closed');
  t.equal(await other.exists('/mine'), null, 'close ends the session and its ephemerals at once');
});

t.test('the server list: a dead server is skipped, for the watch stream and for writes', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const dead = `http://127.0.0.1:${await freePort()}`;
  const c = await ZkClient.connect({ servers: [dead, dead, s.url] });
  t.teardown(() => c.close());
  for (let i = 0; i < 5; i++) await c.create(`/n${i}`, 'x');
  t.equal((await c.getChildren('/')).children.filter((n) => n.startsWith('n')).length, 5, 'writes refused by a dead server were sent to the live one');
  t.equal(c.conn.server, s.url);
});

t.test('a restarted server: the client reconnects in the same session and re-arms its watches (sinceZxid)', async (t) => {
  const port = await freePort();
  const dataDir = tempDir();
  let s = await startTestServer({ httpPort: port, dataDir });
  t.teardown(async () => s.destroy());
  const c = await ZkClient.connect({ servers: s.url, sessionTimeoutMs: 20000 });
  t.teardown(() => c.close());
  await c.create('/cfg', 'v1');
  await c.create('/eph', '', { mode: 'EPHEMERAL' });
  const events: WatchedEvent[] = [];
  await c.watch('/cfg', 'data', (e) => events.push(e));
  const states: ConnectionState[] = [];
  c.onState((st) => states.push(st));
  await s.close();
  await eventually(() => c.state, (st) => st === 'Disconnected');
  s = await startTestServer({ httpPort: port, dataDir });
  await c.waitConnected(20000);
  t.same(states, ['Disconnected', 'SyncConnected']);
  t.ok(await c.exists('/eph'), 'the session and its ephemeral survived');
  await c.setData('/cfg', 'v2');
  await eventually(() => events.length, (n) => n > 0);
  t.same(events.map((e) => e.type), ['NodeDataChanged'], 'the watch armed before the restart fired');
});

/**
 * A server, a blackhole listed after it, a watching client `w` whose reconnect after a drop is held on the blackhole
 * for up to `connectTimeoutMs` (writes made meanwhile are missed, to be resumed), and an `admin` client on the
 * server; all torn down with `t`.
 */
async function behindBlackhole(t: { teardown: (fn: () => unknown) => void }, connectTimeoutMs: number, cfg: Parameters<typeof startTestServer>[0] = {}) {
  const s = await startTestServer(cfg);
  const hole = await blackhole();
  t.teardown(async () => {
    await hole.close();
    await s.destroy();
  });
  const w = await ZkClient.connect({ servers: [s.url, hole.url], ordered: true, session: false, connectTimeoutMs });
  const admin = await ZkClient.connect({ servers: s.url, session: false });
  t.teardown(() => Promise.all([w.close(), admin.close()]));
  return { w, admin };
}

t.test('a watch the server refuses on re-arm (ACL changed while away) is reported gone; the connection lives on', async (t) => {
  const { w, admin } = await behindBlackhole(t, 3000);
  await admin.create('/secret', 'x');
  await admin.create('/open', 'y');
  const gone = new Promise<Error>((resolve) => void w.watch('/secret', 'persistent', () => {}, { onGone: resolve }));
  const openEvents: WatchedEvent[] = [];
  await w.watch('/open', 'persistent', (e) => openEvents.push(e));
  w.conn.drop();
  await admin.setAcl('/secret', [{ scheme: 'digest', id: 'bob:DRT3ZLaEIlF0BwKbR1gwtb6YsNM=', perms: 'cdrwa' }]);
  t.ok(isZkError(await gone, 'NoAuth'), 'the refused watch was told why');
  await w.waitConnected(20000);
  await admin.setData('/open', 'z');
  await eventually(() => openEvents.length, (n) => n > 0);
  t.same(openEvents.map((e) => e.type), ['NodeDataChanged'], 'the other watch was re-armed and fires');
});

t.test('503 with applied:false is retried with backoff; without retries the caller sees it', async (t) => {
  const s = await startTestServer({ maxPendingWrites: 1 });
  t.teardown(() => s.destroy());
  const raw = await ZkClient.connect({ servers: s.url, session: false, maxRetries: 0 });
  const retrying = await ZkClient.connect({ servers: s.url, session: false, maxRetries: 30, retryBaseMs: 5, retryMaxMs: 100 });
  t.teardown(() => Promise.all([raw.close(), retrying.close()]));
  const burst = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => raw.create(`/r${i}`)));
  const refused = burst.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as ZkClientError);
  t.ok(refused.length > 0, `${refused.length} of 20 writes were refused past maxPendingWrites`);
  t.ok(refused.every((e) => e.zkName === 'ConnectionLoss' && e.applied === false), 'refused writes say applied:false');
  const ok = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => retrying.create(`/q${i}`)));
  t.equal(ok.filter((r) => r.status === 'fulfilled').length, 20, 'with retries every write went through');
});

t.test('a one-shot watch survives a reconnect: the re-arm does not fire it for a change its state already holds', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const w = await ZkClient.connect({ servers: s.url, session: false });
  const admin = await ZkClient.connect({ servers: s.url, session: false });
  t.teardown(() => Promise.all([w.close(), admin.close()]));
  await admin.create('/q', '');
  await admin.create('/q/a', '');
  // /q/a's create is already in the watch's state: the re-arm (with sinceZxid) must not count it as missed.
  const { state, fired } = await w.watchOnce('/q', 'children');
  t.same(state.children, ['a']);
  w.conn.drop();
  await w.waitConnected(20000);
  // On re-arm the server must not fire (and so consume) the watch for the create the state already holds.
  await w.getChildren('/q');
  await admin.create('/q/b', '');
  const e = await Promise.race([fired, new Promise<'none'>((r) => setTimeout(() => r('none'), 5000))]);
  t.match(e, { type: 'NodeChildrenChanged', path: '/q' }, 'the create after the reconnect fires the watch');
});

t.test('after a reconnect each persistent watch gets every change it missed, in zxid order, and no resync', async (t) => {
  // The dead second server holds the reconnect for up to connectTimeoutMs: the writes below fall while it is away.
  const { w, admin } = await behindBlackhole(t, 2000);
  await admin.create('/ia', '');
  await admin.create('/ib', '');
  const seen: string[] = [];
  let resyncs = 0;
  const record = (e: WatchedEvent) => seen.push(`${e.type} ${e.path}@${e.zxid}`);
  // /ia is armed first, so it is re-armed first: as a watch frame of its own, its replay would pass /ib's first change.
  await w.watch('/ia', 'persistent', record, { onResync: () => resyncs++ });
  await w.watch('/ib', 'persistent', record, { onResync: () => resyncs++ });
  w.conn.drop();
  const b1 = await admin.setData('/ib', '1');
  const a1 = await admin.setData('/ia', '1');
  const b2 = await admin.setData('/ib', '2');
  await w.waitConnected(20000);
  await eventually(() => seen.length, (n) => n >= 3);
  t.same(seen, [`NodeDataChanged /ib@${b1.mzxid}`, `NodeDataChanged /ia@${a1.mzxid}`, `NodeDataChanged /ib@${b2.mzxid}`]);
  t.equal(resyncs, 0, 'nothing to resync: the server had every change');
});

/**
 * A server, a blackhole after it, and a client holding a persistent watch on each of 400 nodes: the resume after a
 * reconnect takes four frames (~150 watches each), paths[0] in the first, paths[399] in the last. Dropping the
 * connection holds the reconnect on the blackhole for up to 2 s: writes made meanwhile are missed and must be resumed.
 */
async function manyWatches(t: { teardown: (fn: () => unknown) => void }, cfg: Parameters<typeof startTestServer>[0] = {}) {
  const { w, admin } = await behindBlackhole(t, 2000, cfg);
  // ~70 bytes each: one resume frame of them would pass the server's 16 KiB frame limit (1009).
  const paths = Array.from({ length: 400 }, (_, i) => `/many/a-rather-long-name-for-a-watched-node-${String(i).padStart(4, '0')}`);
  await admin.create('/many', '');
  for (const p of paths) await admin.create(p, '');
  const fired: string[] = [];
  let resyncs = 0;
  for (const p of paths) await w.watch(p, 'persistent', (e) => fired.push(`${e.path}@${e.zxid}`), { onResync: () => resyncs++ });
  /** Drops the connection, sets `older` then `newer` while it is away, waits for two events: what they should be. */
  const missTwo = async (older: string, newer: string): Promise<string[]> => {
    w.conn.drop();
    const o = await admin.setData(older, 'x');
    const n = await admin.setData(newer, 'x');
    await w.waitConnected(20000);
    await eventually(() => fired.length, (k) => k >= 2);
    return [`${older}@${o.mzxid}`, `${newer}@${n.mzxid}`];
  };
  return { w, admin, paths, fired, resyncs: () => resyncs, missTwo };
}

t.test('a client with more watches than fit in one frame gets back in after a reconnect with every change it missed, once, and no resync', async (t) => {
  const { w, admin, paths, fired, resyncs, missTwo } = await manyWatches(t);
  const [first, last] = [paths[0] as string, paths[399] as string];
  // The last frame's node changes first: resumed frame by frame, the first frame's replay would pass that change.
  t.same(fired, await missTwo(last, first), 'both missed changes, in zxid order');
  t.equal(resyncs(), 0, 'nothing to resync: the frames were resumed as one');
  await admin.setData(first, 'y');
  await admin.setData(last, 'y');
  await eventually(() => fired.length, (n) => n >= 4);
  t.same(fired.slice(2).map((e) => e.split('@')[0]), [first, last], 'watches from the first and the last frame are armed again');
  t.equal(w.state, 'SyncConnected');
});

t.test('a server that will not hold all the resume frames gets the refused one without more, which completes what it holds', async (t) => {
  // 16 KiB: the first frame (~12 KiB) is held, the second is refused, sent again without more, and completes the two.
  const { admin, paths, fired, resyncs, missTwo } = await manyWatches(t, { wsMaxResumeBytes: 16 * 1024 });
  const [first, second, last] = [paths[0] as string, paths[200] as string, paths[399] as string];
  t.same(fired, await missTwo(second, first), 'the first two frames were resumed as one');
  t.equal(resyncs(), 0);
  await admin.setData(last, 'y');
  await eventually(() => fired.length, (n) => n >= 3);
  t.same(fired.at(-1)?.split('@')[0], last, 'the frames after it are armed too');
});

t.test('a server that refuses the whole batch for the size of its reply gets the watches one frame each, and every one is armed again', async (t) => {
  // 400 results of ~300 bytes pass 64 KiB: the completing frame is refused, the held frames with it.
  const { w, admin, paths, fired, missTwo } = await manyWatches(t, { wsMaxReplyBytes: 64 * 1024 });
  const [first, last] = [paths[0] as string, paths[399] as string];
  // Older first in the order the watches are re-armed: one frame each, neither replay passes the other's change.
  t.same(fired, await missTwo(first, last), 'both missed changes');
  await admin.setData(first, 'y');
  await admin.setData(last, 'y');
  await eventually(() => fired.length, (n) => n >= 4);
  t.same(fired.slice(2).map((e) => e.split('@')[0]), [first, last], 'watches from the first and the last frame are armed again');
  t.equal(w.state, 'SyncConnected');
});

t.test('watches armed at zxid 0 (a server that has committed nothing) get what they missed after a reconnect', async (t) => {
  const { w, admin } = await behindBlackhole(t, 2000);
  const events: string[] = [];
  await w.watch('/ready', 'exists', (e) => events.push(`${e.type} ${e.path}`));
  await w.watch('/', 'persistent', (e) => events.push(`${e.type} ${e.path}`));
  t.equal(w.conn.streamZxid, 0, 'the watches were armed at zxid 0');
  w.conn.drop();
  await admin.create('/ready', '');
  await w.waitConnected(20000);
  await eventually(() => events.length, (n) => n >= 2);
  t.same(events.sort(), ['NodeChildrenChanged /', 'NodeCreated /ready'], 'both missed events arrive');
});

t.test("a server whose frame bound is below the client's resume frames: the client cuts smaller ones and gets back in", async (t) => {
  const { w, admin } = await behindBlackhole(t, 1000, { wsMaxFrameBytes: 4096 });
  await admin.create('/small', '');
  const paths = Array.from({ length: 80 }, (_, i) => `/small/some-longer-path-name-${i}`);
  for (const p of paths) await admin.create(p, '');
  const fired: string[] = [];
  for (const p of paths) await w.watch(p, 'persistent', (e) => fired.push(e.path));
  w.conn.drop();
  await admin.setData(paths[79] as string, 'x');
  await w.waitConnected(30000);
  t.equal(w.state, 'SyncConnected', 'connected again');
  await eventually(() => fired.length, (n) => n >= 1);
  t.same(fired, [paths[79]], 'with the change it missed');
  await admin.setData(paths[0] as string, 'y');
  await eventually(() => fired.length, (n) => n >= 2);
  t.equal(fired[1], paths[0], 'and every watch armed again');
});

t.test('resume frames are cut by their size as sent: names full of characters JSON escapes', async (t) => {
  const { w, admin } = await behindBlackhole(t, 1000);
  const paths = Array.from({ length: 8 }, (_, i) => `/bs${i}-${'\\'.repeat(1800)}`);
  for (const p of paths) await admin.create(p, '');
  const fired: string[] = [];
  for (const p of paths) await w.watch(p, 'persistent', (e) => fired.push(e.path));
  w.conn.drop();
  await admin.setData(paths[7] as string, 'x');
  await w.waitConnected(30000);
  await eventually(() => fired.length, (n) => n >= 1);
  t.same(fired, [paths[7]], 'the missed change arrives');
});

t.test('close() ends requests still retrying at once, with ConnectionLoss "client closed"', async (t) => {
  const s = await startTestServer();
  const c = await ZkClient.connect({ servers: s.url, session: false, maxRetries: 50, retryBaseMs: 200, retryMaxMs: 1000 });
  await s.destroy();
  const pending = c.exists('/anything').then(
    () => 'answered',
    (e: unknown) => (e as Error).message,
  );
  await new Promise((r) => setTimeout(r, 300));
  await c.close();
  t.match(await pending, /client closed/, 'the retrying read gave up when the client closed');
});
