// The engine's waiters: writes waiting for their entry to apply, and reads waiting for a zxid.
import t from 'tap';
import { ZkWaiters } from '../../server/quorum/waiters.js';
import { ZkError } from '../../server/errors.js';
import type { ApplyResult } from '../../server/tree/types.js';

const RESULT = { kind: 'set' } as unknown as ApplyResult;

t.test('a write applied here resolves with its result, one lost to another term is rejected', async (t) => {
  const w = new ZkWaiters();
  const kept = w.wait(5, 2, 60_000);
  const lost = w.wait(6, 2, 60_000);
  w.onApplied([{ index: 5, term: 2 }, { index: 6, term: 3 }], [{ zxid: 5, txn: {} as never, result: RESULT }, { zxid: 6, txn: {} as never, result: RESULT }], 6);
  t.equal(await kept, RESULT);
  const e = await lost.then(
    () => undefined,
    (err: unknown) => err,
  );
  t.match(e, { zkName: 'ConnectionLoss', applied: false }, 'one lost to another term is rejected: not applied');
  t.equal(w.size, 0);
});

t.test('a snapshot install answers the writes it covers at once, and only those', async (t) => {
  const w = new ZkWaiters();
  const covered = w.wait(10, 1, 60_000);
  const edge = w.wait(12, 1, 60_000);
  const later = w.wait(13, 1, 60_000);
  const read = w.waitApplied(12, 0, 60_000);
  const readLater = w.waitApplied(14, 0, 60_000);
  let readLaterDone = false;
  void readLater.then(() => (readLaterDone = true));
  w.onInstalled(12);
  for (const p of [covered, edge]) {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    t.type(e, ZkError, 'a covered write is rejected');
    t.equal((e as ZkError).zkName, 'ConnectionLoss', 'as ConnectionLoss');
    t.match((e as ZkError).message, /snapshot.*outcome is unknown/, 'saying its outcome is unknown');
  }
  await read;
  t.pass('a wait for a zxid the snapshot reached is over');
  t.equal(w.size, 1, 'the write past the snapshot still waits');
  await new Promise((r) => setImmediate(r));
  t.equal(readLaterDone, false, 'and so does a read of a zxid past it');
  w.onApplied([{ index: 13, term: 1 }, { index: 14, term: 1 }], [{ zxid: 13, txn: {} as never, result: RESULT }], 14);
  t.equal(await later, RESULT, 'then applies normally');
  await readLater;
});
