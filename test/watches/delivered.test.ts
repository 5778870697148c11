// A connection's memory of what it received: exact for its latest events, "cannot tell" (undefined) past them, and
// it refuses an event older than the newest, which would break the connection's zxid order.
import t from 'tap';
import { DeliveredEvents } from '../../server/watches/delivered.js';

const ev = (zxid: number, path = '/a', type: 'NodeDataChanged' | 'NodeChildrenChanged' = 'NodeDataChanged') => ({ zxid, type, path });

t.test('remembers its latest events exactly and says when it can no longer tell', async (t) => {
  const d = new DeliveredEvents(3);
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
