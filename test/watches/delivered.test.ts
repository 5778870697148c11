// A connection's memory of what it received: exact for its latest events, "cannot tell" (undefined) past them, and
// it refuses an event older than the newest, which would break the connection's zxid order.
import t from 'tap';
import { DeliveredEvents, LIVE_EVENTS } from '../../server/watches/delivered.js';

const ev = (zxid: number, path = '/a', type: 'NodeDataChanged' | 'NodeChildrenChanged' = 'NodeDataChanged') => ({ zxid, type, path });

t.test('remembers its latest events exactly and says when it can no longer tell', async (t) => {
  const d = new DeliveredEvents(3);
  d.remember();
  for (const e of [ev(1), ev(2), ev(2, '/b'), ev(4), ev(4, '/a', 'NodeChildrenChanged')]) d.record(e);
  t.equal(d.mark, 4);
  t.equal(d.has(ev(4)), true);
  t.equal(d.has(ev(4, '/a', 'NodeChildrenChanged')), true);
  t.equal(d.has(ev(4, '/b')), false, 'not delivered, at the newest zxid');
  t.equal(d.has(ev(3)), false, 'not delivered, above what was forgotten');
  t.equal(d.has(ev(5)), false, 'newer than anything delivered');
  t.equal(d.has(ev(2, '/b')), true, 'still in the ring');
  t.equal(d.has(ev(2)), undefined, 'zxid 2 was partly forgotten');
  t.equal(d.has(ev(1)), undefined, 'forgotten');
});

t.test('an event older than the newest delivered is a bug, not a send', async (t) => {
  const d = new DeliveredEvents(4);
  d.remember();
  d.record(ev(5));
  d.record(ev(5, '/b'));
  t.throws(() => d.record(ev(4)), /zxid order/);
});

t.test('with no memory it knows only its newest zxid', async (t) => {
  const d = new DeliveredEvents(0);
  d.record(ev(7));
  t.equal(d.mark, 7);
  t.equal(d.has(ev(8)), false);
  t.equal(d.has(ev(7)), undefined);
});

t.test('keeps LIVE_EVENTS until the connection first resumes a watch, then its whole limit', async (t) => {
  const d = new DeliveredEvents(100);
  for (let z = 1; z <= LIVE_EVENTS + 4; z++) d.record(ev(z));
  t.equal(d.has(ev(LIVE_EVENTS + 4)), true, 'the latest is known');
  t.equal(d.has(ev(5)), true, `the ${LIVE_EVENTS} latest are known`);
  t.equal(d.has(ev(4)), undefined, 'older ones are forgotten: a connection that never resumes holds only a few');
  d.remember();
  for (let z = LIVE_EVENTS + 5; z <= 60; z++) d.record(ev(z));
  t.equal(d.has(ev(5)), true, 'after remember() the ring grows to the limit, nothing dropped on the way');
  t.equal(d.has(ev(60)), true);
  t.equal(d.has(ev(60, '/b')), false);
  t.equal(d.has(ev(4)), undefined);
});
