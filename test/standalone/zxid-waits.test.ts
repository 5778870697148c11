// The waits of requests for a zxid this node has not reached (ZK-Min-Zxid): each resolves once the node gets there,
// times out on its own, and there are never more than the bound.
import t from 'tap';
import fc from 'fast-check';
import { ZxidWaits } from '../../server/zxid-waits.js';
import { ZkError } from '../../server/errors.js';

/** The node's applied zxid, for the timeout's message: below every wait here. */
const appliedNone = () => 0;
const tick = () => new Promise((r) => setImmediate(r));

t.test('after any waits and releases, exactly the waits at or below the highest release have resolved', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.record({ wait: fc.integer({ min: 1, max: 60 }) }), fc.record({ release: fc.integer({ min: 0, max: 60 }) })), { maxLength: 120 }),
      async (steps) => {
        const waits = new ZxidWaits();
        const all: { zxid: number; resolved: boolean }[] = [];
        let reached = 0;
        for (const s of steps) {
          if ('wait' in s) {
            if (s.wait <= reached) continue; // a node answers at once what it has reached; the caller does not wait
            const w = { zxid: s.wait, resolved: false };
            all.push(w);
            void waits.wait(s.wait, 60_000, appliedNone).then(() => (w.resolved = true));
          } else {
            reached = Math.max(reached, s.release);
            waits.release(reached);
          }
          await tick();
          if (all.some((w) => w.resolved !== w.zxid <= reached)) return false;
          if (waits.size !== all.filter((w) => !w.resolved).length) return false;
        }
        waits.release(Infinity);
        return true;
      },
    ),
    { numRuns: 200 },
  );
  t.pass('resolved exactly the waits reached, in every run');
});

t.test('a wait times out on its own; the others still resolve', async (t) => {
  const waits = new ZxidWaits();
  const short = waits.wait(10, 20, appliedNone);
  const long = waits.wait(5, 60_000, appliedNone);
  await t.rejects(short, { message: 'this node has not reached zxid 10 within 20 ms (at 0)' });
  t.equal(waits.size, 1);
  waits.release(10);
  await long;
  t.equal(waits.size, 0);
});

t.test('beyond the bound a wait is refused at once; timed-out waits make room', async (t) => {
  const waits = new ZxidWaits(3);
  const held = [1, 2, 3].map((z) => waits.wait(100 + z, 30, appliedNone).catch(() => 'timed out'));
  const refused = await waits.wait(200, 60_000, appliedNone).catch((e: unknown) => e);
  t.ok(refused instanceof ZkError && refused.zkName === 'ConnectionLoss' && refused.status === 503, 'ConnectionLoss, 503');
  t.same(await Promise.all(held), ['timed out', 'timed out', 'timed out']);
  const again = waits.wait(5, 60_000, appliedNone);
  t.equal(waits.size, 1, 'room again once they timed out');
  waits.release(5);
  await again;
});

t.test('thousands of waits for a zxid that never comes time out and are forgotten', async (t) => {
  const waits = new ZxidWaits();
  const gone = Array.from({ length: 5000 }, () => waits.wait(1e12, 10, appliedNone).catch(() => undefined));
  await Promise.all(gone);
  t.equal(waits.size, 0);
  const next = waits.wait(7, 60_000, appliedNone);
  waits.release(7);
  await next;
  t.pass('a later wait still resolves');
});
