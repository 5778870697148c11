// Session liveness bookkeeping: expiry marks a session closing once; a close that never committed
// (a deposed leader's expiry, Jepsen seed 2001) must leave the session live and expirable again.
import t from 'tap';
import { SessionTracker } from '../../server/sessions/tracker.js';

t.test('an expired session is handed out once, and not again while its close is in flight', async (t) => {
  const s = new SessionTracker();
  s.add('0x1', 1000, 0);
  t.same(s.takeExpired(999), []);
  t.same(s.takeExpired(1000), ['0x1']);
  t.same(s.takeExpired(5000), [], 'closing: not expired twice');
  t.notOk(s.has('0x1'), 'requests in a closing session are refused');
});

t.test('a close that did not commit leaves the session live, and expiry tries again', async (t) => {
  const s = new SessionTracker();
  s.add('0x2', 1000, 0);
  t.same(s.takeExpired(2000), ['0x2']);
  s.unmarkClosing('0x2');
  t.ok(s.has('0x2'), 'usable again');
  t.same(s.takeExpired(2001), ['0x2'], 'and expired again at the next check');
});

t.test('a node that becomes leader again gives every session a full timeout, closing or not', async (t) => {
  const s = new SessionTracker();
  s.add('0x3', 1000, 0);
  t.same(s.takeExpired(1500), ['0x3']);
  // Leadership moved away and back before the close committed: the old mark must not pin the session.
  s.renewAll(10_000);
  t.ok(s.has('0x3'));
  t.same(s.takeExpired(10_999), []);
  t.same(s.takeExpired(11_000), ['0x3'], 'it expires on the new schedule');
});

t.test('touches are remembered for the leader once, then forgotten', async (t) => {
  const s = new SessionTracker();
  s.add('0x4', 1000, 0);
  t.ok(s.touch('0x4', 10));
  t.same(s.takeTouched(), ['0x4']);
  t.same(s.takeTouched(), []);
  t.notOk(s.touch('0x5', 10), 'an unknown session cannot be touched');
});

t.test('every touched session is forwarded, however many there are (maxSessions may be set above 100,000)', async (t) => {
  const s = new SessionTracker();
  const n = 150_000;
  for (let i = 0; i < n; i++) s.add(`0x${i.toString(16)}`, 30000, 0);
  for (let i = n - 1; i >= 0; i--) s.touch(`0x${i.toString(16)}`, 1);
  const touched = s.takeTouched();
  t.equal(touched.length, n);
  t.ok(touched.includes('0x0'), 'the last one touched too');
  t.notOk(s.touch('0xunknown', 1), 'an unknown session is not remembered');
  t.same(s.takeTouched(), []);
});

t.test('takeExpired hands out at most its limit; the rest stay for the next call', async (t) => {
  const s = new SessionTracker();
  for (let i = 1; i <= 5; i++) s.add(`0x${i}`, 1000, 0);
  t.same(s.takeExpired(1000, 2), ['0x1', '0x2']);
  t.same(s.takeExpired(1000, 2), ['0x3', '0x4']);
  t.same(s.takeExpired(1000), ['0x5']);
  t.same(s.takeExpired(1000, 2), []);
});
