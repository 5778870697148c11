// Bounded everything, and errors as values: a slow reader is closed with 1008 (its watches dropped, nothing queued
// past the bound), watches per connection, frame size, connections per address and in total; bad frames get
// {id, ok:false, error, code, message}; watch counts show in wchs, wchc, wchp and mntr; shutdown closes with 1001.
import t from 'tap';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { startTestServer } from '../helpers/server.js';
import { WatchClient, http, stallWithReplies } from './client.js';

const s = await startTestServer({
  wsMaxBufferedBytes: 64 * 1024,
  wsMaxWatchesPerConnection: 5,
  wsMaxFrameBytes: 2048,
  wsMaxResumeBytes: 1500,
  wsMaxConnectionsPerIp: 8,
  wsMaxConnections: 9,
  wsCloseGraceMs: 5000,
});
t.teardown(() => s.destroy());
const base = s.url;
const wchs = async () => (await http(base, 'GET', '/v1/admin/wchs')).body;
const z = (p: string) => '/v1/znodes' + p;

t.test('a client that stops reading is closed with 1008 once its buffer fills, and its watches go', async (t) => {
  // 256 KiB of data per reply: a few replies overflow the socket buffers and the 64 KiB bound.
  await http(base, 'POST', '/v1/znodes/big', Buffer.alloc(256 * 1024, 97));
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  t.match(await c.watch('/big', 'persistent'), { ok: true });
  // The server notices the full buffer while answering; the closed connection's watches are gone at once.
  t.ok(await stallWithReplies(base, c, '/big'), 'watches of the slow connection were dropped');
  c.ws.resume();
  t.ok(await c.until(() => c.closed !== undefined, 10000));
  t.equal(c.closed?.code, 1008);
  t.match(c.closed?.reason, /slow consumer/);
  const replies = c.pushed.length;
  t.ok(replies < 200, `the server stopped answering at the bound (${replies} of 200 replies were queued)`);
});

t.test('a slow reader of events that resumes within the close grace sees 1008 and the reason; nothing is queued after', async (t) => {
  await http(base, 'POST', z('/slow'));
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  t.match(await c.watch('/slow', 'persistentRecursive'), { ok: true });
  c.ws.pause();
  // Events with ~1.8 KiB paths (under MAX_PATH_BYTES), 200 per multi: a few MiB fill the loopback socket buffers and then the 64 KiB bound.
  const name = (tag: string, i: number) => `/slow/${tag}${i}-${'n'.repeat(1800)}`;
  const burst = (tag: string, n: number) => {
    const ops = Array.from({ length: 200 }, (_, i) => ({ op: 'create', path: name(`${tag}${n}-`, i) }));
    return http(base, 'POST', '/v1/multi', JSON.stringify({ ops }), { 'content-type': 'application/json' });
  };
  let gone = false;
  let generated = 0;
  for (let n = 0; n < 200 && !gone; n++) {
    t.equal((await burst('e', n)).status, 200);
    generated += 200;
    gone = (await wchs()).numTotalWatches === 0;
  }
  t.ok(gone, 'the server gave up on the slow reader and dropped its watches');
  // After that decision nothing more is queued for it: these events must never arrive.
  t.equal((await burst('after', 0)).status, 200);
  // Still paused a while, but well inside wsCloseGraceMs.
  await new Promise((r) => setTimeout(r, 500));
  c.ws.resume();
  t.ok(await c.until(() => c.closed !== undefined, 10000));
  t.equal(c.closed?.code, 1008, 'the close frame behind the backlog arrives');
  t.match(c.closed?.reason, /slow consumer/);
  t.notOk(c.events().some((e) => e.path.startsWith('/slow/after')), 'no event was queued after the decision');
  t.ok(c.events().length < generated, `the server stopped at the bound (${c.events().length} of ${generated} events were queued)`);
});

t.test('watches per connection are capped; re-arming an existing watch is not a new one', async (t) => {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  for (let i = 0; i < 5; i++) t.match(await c.watch(`/w${i}`, 'exists'), { ok: true });
  t.match(await c.watch('/w0', 'exists'), { ok: true }, 'same path and kind: still one watch');
  t.match(await c.watch('/w5', 'exists'), { ok: false, error: 'BadArguments', code: -8 });
  t.match(await c.request({ op: 'unwatch', path: '/w0', kind: 'exists' }), { ok: true });
  t.match(await c.watch('/w5', 'exists'), { ok: true });
  t.match(await c.request({ op: 'unwatch', path: '/w0', kind: 'exists' }), { ok: false, error: 'NoWatcher', code: -121 });
});

t.test('data and exists are one watch to unwatch, as ZooKeeper removes both for WatcherType.Data', async (t) => {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  for (const p of ['/u-x', '/u-y']) t.equal((await http(base, 'POST', z(p))).status, 201);
  t.match(await c.watch('/u-x', 'data'), { ok: true });
  t.match(await c.request({ op: 'unwatch', path: '/u-x', kind: 'exists' }), { ok: true }, 'unwatching exists removes a data watch');
  t.match(await c.request({ op: 'unwatch', path: '/u-x', kind: 'data' }), { ok: false, error: 'NoWatcher' }, 'it is gone');
  t.match(await c.watch('/u-y', 'exists'), { ok: true });
  t.match(await c.watch('/u-y', 'data'), { ok: true });
  t.match(await c.watch('/u-y', 'children'), { ok: true });
  t.match(await c.request({ op: 'unwatch', path: '/u-y', kind: 'data' }), { ok: true }, 'unwatching data removes both');
  t.match(await c.request({ op: 'unwatch', path: '/u-y', kind: 'exists' }), { ok: false, error: 'NoWatcher' });
  t.match(await c.request({ op: 'unwatch', path: '/u-y', kind: 'children' }), { ok: true }, 'the children watch is not touched');
});

t.test('resume frames held (more:true) are capped in watches and bytes: past either, BadArguments, and the batch still completes', async (t) => {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  const since = (await c.request({ op: 'ping' })).zxid as string;
  const resume = (watches: string[], more: boolean) => c.request({ op: 'resume', sinceZxid: since, watches: watches.map((path) => ({ path, kind: 'exists' })), ...(more ? { more } : {}) });
  t.match(await resume(['/h0', '/h1', '/h2'], true), { ok: true, held: 3 });
  t.match(await resume(['/h3', '/h4', '/h5'], true), { ok: false, error: 'BadArguments', code: -8, message: /wsMaxWatchesPerConnection 5/ }, '6 held watches: more than a connection may hold');
  // A frame of ~1.5 KiB (under wsMaxFrameBytes) on the ~150 bytes held: past 1500.
  t.match(await resume(['/' + 'l'.repeat(1400)], true), { ok: false, error: 'BadArguments', message: /wsMaxResumeBytes 1500/ });
  const r = await resume(['/h3'], false);
  t.same((r.results as { ok: boolean }[]).map((x) => x.ok), [true, true, true, true], 'the refused frames were not held; the others were');
  t.match(await wchs(), { numTotalWatches: 4 });
});

t.test('bad frames get ZooKeeper-style errors and the connection stays usable', async (t) => {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  t.match(await c.watch('no-slash', 'data'), { ok: false, error: 'BadArguments', code: -8 });
  t.match(await c.watch('/a/', 'data'), { ok: false, error: 'BadArguments' });
  t.match(await c.watch('/', 'sideways'), { ok: false, error: 'BadArguments' });
  t.match(await c.request({ op: 'frobnicate' }), { ok: false, error: 'Unimplemented', code: -6 });
  t.match(await c.request({ op: 'watch' }), { ok: false, error: 'BadArguments' });
  c.ws.send('{not json');
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  c.ws.send('[1,2]');
  await c.sync();
  t.same(
    c.pushed.map((f) => [f.id, f.ok, f.error, f.code]),
    [
      [null, false, 'MarshallingError', -5],
      [null, false, 'MarshallingError', -5],
      [null, false, 'MarshallingError', -5],
    ],
  );
  t.match(await c.request({ op: 'ping' }), { ok: true, zxid: /^\d+$/ });
});

t.test('a frame over wsMaxFrameBytes closes the connection with 1009', async (t) => {
  const c = await WatchClient.open(base);
  c.ws.send(JSON.stringify({ id: 1, op: 'watch', path: '/' + 'x'.repeat(4000), kind: 'data' }));
  t.ok(await c.until(() => c.closed !== undefined));
  t.equal(c.closed?.code, 1009);
});

t.test('connections from one address are capped (503 on the upgrade)', async (t) => {
  const open: WatchClient[] = [];
  t.teardown(() => Promise.all(open.map((c) => c.close())));
  for (let i = 0; i < 8; i++) open.push(await WatchClient.open(base));
  await t.rejects(WatchClient.open(base), /upgrade refused: 503/);
  const refused = new WebSocket(base.replace('http', 'ws') + '/v1/watch');
  refused.on('error', () => {});
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    refused.once('unexpected-response', (_req, r) => resolve(r));
    refused.once('open', () => reject(new Error('upgraded past the cap')));
  });
  t.equal(res.headers['retry-after'], '1', 'the refusal says when to retry');
  t.match(res.headers['zk-zxid'], /^\d+$/, 'and carries ZK-Zxid');
  res.resume();
  await open.pop()?.close();
  await new Promise((r) => setTimeout(r, 50));
  open.push(await WatchClient.open(base));
});

t.test('GET /v1/watch without an upgrade is 400 BadArguments naming the upgrade; other upgrade paths are refused', async (t) => {
  const r = await http(base, 'GET', '/v1/watch');
  t.equal(r.status, 400);
  t.equal(r.headers.get('upgrade'), 'websocket');
  t.equal(r.body.error, 'BadArguments');
  const ws = new WebSocket(base.replace('http', 'ws') + '/v1/other');
  const status = await new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
  t.equal(status, 404);
});

t.test('watch counts show in wchs, wchc, wchp and mntr', async (t) => {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  await c.watch('/', 'children');
  await c.watch('/', 'persistentRecursive');
  await c.watch('/zookeeper', 'data');
  t.match(await wchs(), { numTotalWatches: 3, numPaths: 2, numWatchingConnections: 1 });
  const wchc = (await http(base, 'GET', '/v1/admin/wchc')).body as { connections: { watches: { path: string; kinds: string[] }[] }[] };
  t.same(wchc.connections[0]?.watches, [
    { path: '/', kinds: ['children', 'persistentRecursive'] },
    { path: '/zookeeper', kinds: ['data'] },
  ]);
  const wchp = (await http(base, 'GET', '/v1/admin/wchp')).body as { paths: { path: string }[]; truncated: boolean };
  t.same(wchp.paths.map((p) => p.path).sort(), ['/', '/zookeeper']);
  t.equal((await http(base, 'GET', '/v1/admin/mntr')).body.zk_watch_count, 3);
});

t.test('shutdown closes watch connections with 1001', async (t) => {
  const other = await startTestServer();
  const c = await WatchClient.open(other.url);
  await c.watch('/', 'persistent');
  await other.destroy();
  t.ok(await c.until(() => c.closed !== undefined));
  t.equal(c.closed?.code, 1001);
});

t.test('a flood of empty frames behind a waiting one meets the buffer bound: closed 1008, the server answering meanwhile', async (t) => {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  // A watch that waits (a zxid the node has not applied yet), so that the frames after it queue.
  c.ws.send(JSON.stringify({ id: 1, op: 'watch', path: '/', kind: 'data', sinceZxid: '999999999' }));
  // Each queued frame counts QUEUED_FRAME_COST (256) besides its bytes: 64 KiB hold 256 of them. Sent in bursts, so
  // that the server reads some between them.
  for (let i = 0; i < 20 && c.closed === undefined; i++) {
    for (let j = 0; j < 50; j++) c.ws.send('');
    await new Promise((r) => setTimeout(r, 5));
  }
  t.ok(await c.until(() => c.closed !== undefined, 10000), 'the connection is closed');
  t.equal(c.closed?.code, 1008);
  t.match(c.closed?.reason, /too many frames waiting to be handled/);
  t.equal((await http(base, 'GET', '/v1/admin/ruok')).status, 200, 'and the server answers');
});
