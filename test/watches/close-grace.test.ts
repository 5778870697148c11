// A close grace longer than ws's own 30 s close timer is honoured: a slow reader paused for 31 s still finds the
// 1008 close frame behind its backlog, instead of a socket cut at 30 s (1006) with no reason. Its own server, so
// the 31 s wait overlaps other test files rather than lengthening limits.test.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { WatchClient, http, stallWithReplies } from './client.js';

const GRACE_MS = 34_000;
const s = await startTestServer({ wsMaxBufferedBytes: 64 * 1024, wsCloseGraceMs: GRACE_MS });
t.teardown(() => s.destroy());
const base = s.url;

t.test('a reader paused past 30 s but within wsCloseGraceMs still gets the 1008 close and its reason', async (t) => {
  await http(base, 'POST', '/v1/znodes/big', Buffer.alloc(256 * 1024, 97));
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  t.match(await c.watch('/big', 'persistent'), { ok: true });
  t.ok(await stallWithReplies(base, c, '/big'), 'the server gave up on the slow reader');
  const decidedAt = Date.now();
  await new Promise((r) => setTimeout(r, 31_000));
  t.equal(c.closed, undefined, 'the client has not seen a close while paused');
  c.ws.resume();
  t.ok(await c.until(() => c.closed !== undefined, 10_000), 'the close arrives once it reads again');
  t.equal(c.closed?.code, 1008, `a clean 1008 close, ${Date.now() - decidedAt} ms after the decision (not 1006 at ws's 30 s)`);
  t.match(c.closed?.reason, /slow consumer/);
});
