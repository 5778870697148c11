// Session liveness bookkeeping: expiry marks a session closing once; a close that never committed
// (a deposed leader's expiry, Jepsen seed 2001) must leave the session live and expirable again.
import t from 'tap';
import { SessionTracker } from '../../server/sessions/tracker.js';
import { AwakeClock } from '../../server/awake-clock.js';

/** A tracker on a clock the test sets: `at(ms)` makes it that time. */
function tracker(): { s: SessionTracker; at: (ms: number) => SessionTracker } {
  let now = 0;
  const s = new SessionTracker(() => now);
  return { s, at: (ms) => ((now = ms), s) };
}

t.test('an expired session is handed out once, and not again while its close is in flight', async (t) => {
  const { s, at } = tracker();
  at(0).add('0x1', 1000);
  t.same(at(999).takeExpired(), []);
  t.same(at(1000).takeExpired(), ['0x1']);
  t.same(at(5000).takeExpired(), [], 'closing: not expired twice');
  t.notOk(s.has('0x1'), 'requests in a closing session are refused');
});

t.test('a close that did not commit leaves the session live, and expiry tries again', async (t) => {
  const { s, at } = tracker();
  at(0).add('0x2', 1000);
  t.same(at(2000).takeExpired(), ['0x2']);
  s.unmarkClosing('0x2');
  t.ok(s.has('0x2'), 'usable again');
  t.same(at(2001).takeExpired(), ['0x2'], 'and expired again at the next check');
});

t.test('a node that becomes leader again gives every session a full timeout, closing or not', async (t) => {
  const { s, at } = tracker();
  at(0).add('0x3', 1000);
  t.same(at(1500).takeExpired(), ['0x3']);
  // Leadership moved away and back before the close committed: the old mark must not pin the session.
  at(10_000).renewAll();
  t.ok(s.has('0x3'));
  t.same(at(10_999).takeExpired(), []);
  t.same(at(11_000).takeExpired(), ['0x3'], 'it expires on the new schedule');
});

t.test('touches are remembered for the leader once, then forgotten', async (t) => {
  const { s, at } = tracker();
  at(0).add('0x4', 1000);
  t.ok(at(10).touch('0x4'));
  t.same(s.takeTouched(), ['0x4']);
  t.same(s.takeTouched(), []);
  t.notOk(s.touch('0x5'), 'an unknown session cannot be touched');
});

t.test('a session that ends is forgotten with its touch: a node that never hands touches on (a leader) keeps no more than the live ones', async (t) => {
  const { s, at } = tracker();
  at(0);
  for (let i = 0; i < 1000; i++) {
    s.add(`0x${i.toString(16)}`, 30000);
    s.touch(`0x${i.toString(16)}`);
    if (i % 10 !== 0) s.remove(`0x${i.toString(16)}`);
  }
  t.equal(s.takeTouched().length, 100, 'the 100 live sessions, not the 1,000 touched');
});

t.test('every touched session is forwarded, however many there are (maxSessions may be set above 100,000)', async (t) => {
  const { s, at } = tracker();
  const n = 150_000;
  for (let i = 0; i < n; i++) s.add(`0x${i.toString(16)}`, 30000);
  at(1);
  for (let i = n - 1; i >= 0; i--) s.touch(`0x${i.toString(16)}`);
  const touched = s.takeTouched();
  t.equal(touched.length, n);
  t.ok(touched.includes('0x0'), 'the last one touched too');
  t.notOk(s.touch('0xunknown'), 'an unknown session is not remembered');
  t.same(s.takeTouched(), []);
});

t.test('takeExpired hands out at most its limit; the rest stay for the next call', async (t) => {
  const { s, at } = tracker();
  for (let i = 1; i <= 5; i++) s.add(`0x${i}`, 1000);
  at(1000);
  t.same(s.takeExpired(2), ['0x1', '0x2']);
  t.same(s.takeExpired(2), ['0x3', '0x4']);
  t.same(s.takeExpired(), ['0x5']);
  t.same(s.takeExpired(2), []);
});

t.test('time the node did not run counts against no session: every deadline moves by it, touched or not', async (t) => {
  // The node's awake clock (server/awake-clock.ts) on a base the test sets, observed every 250 ms while the node runs.
  let base = 0;
  const stalls: number[] = [];
  const awake = new AwakeClock((ms) => stalls.push(ms), () => base);
  t.equal(awake.now(), 0);
  base = 10_000;
  t.equal(awake.now(), 10_000, 'before start (start-up runs first) no gap is a stall');
  base = 0;
  awake.start(250);
  t.teardown(() => awake.stop());
  const s = new SessionTracker(() => awake.now());
  /** The node runs up to `ms`, its heartbeat observing the clock every 250 ms. */
  const runTo = (ms: number) => {
    while (base + 250 <= ms) {
      base += 250;
      awake.now();
    }
    base = ms;
    return s;
  };
  runTo(0).add('0x4', 1000);
  s.add('0x5', 1000);
  runTo(500);
  // The node stopped from 500 to 4500: a keepalive of 0x4 waits unread, and the expiry check runs first.
  base = 4500;
  t.same(s.takeExpired(), [], 'neither has had its 1000 ms of the node running');
  t.same(stalls, [3750], 'the stall, less the one interval the heartbeat allows');
  s.touch('0x4');
  t.same(runTo(4749).takeExpired(), []);
  t.same(runTo(4750).takeExpired(), ['0x5'], 'the untouched one expires 1000 ms of running time after its start');
  t.same(runTo(5499).takeExpired(), []);
  t.same(runTo(5500).takeExpired(), ['0x4'], 'the touched one 1000 ms after its keepalive was read');
  t.equal(awake.stalledMs, 3750);
  t.equal(awake.stalls, 1, 'a node that ran throughout since shows no other stall');
});
