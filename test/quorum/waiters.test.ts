// The engine's waiters: writes waiting for their entry to apply, and reads waiting for a zxid.
import t from 'tap';
import { ZkWaiters } from '../../server/quorum/waiters.js';
import { ZkError } from '../../server/errors.js';
import type { ApplyResult } from '../../server/tree/types.js';

const RESULT: ApplyResult = { outcome: { ok: true, value: { kind: 'stat', stat: {} as never } }, triggers: [] };

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

/** The result of a multi of `ops` creates, as apply reports it: a stat per op and two triggers per create. */
function multiResult(ops: number): ApplyResult {
  return {
    outcome: { ok: true, value: { kind: 'multi', results: Array.from({ length: ops }, (_, i) => ({ op: 'create', path: `/m${i}`, stat: {} as never })) } },
    triggers: Array.from({ length: 2 * ops }, () => ({ type: 'NodeCreated', path: '/m', acl: [] })),
  };
}

async function outcomeOf(p: Promise<ApplyResult>): Promise<unknown> {
  return p.then(
    (r) => r,
    (e: unknown) => e,
  );
}

t.test('a writer that registers after its entry applied gets the result, within what is kept', async (t) => {
  const w = new ZkWaiters();
  for (let i = 1; i <= 100; i++) w.onApplied([{ index: i, term: 1 }], [{ zxid: i, txn: {} as never, result: RESULT }], i);
  t.equal(await w.wait(100, 1, 60_000), RESULT, 'the newest');
  t.equal(await w.wait(1, 1, 60_000), RESULT, 'and one 99 entries back');
  t.match(await outcomeOf(w.wait(50, 2, 60_000)), { zkName: 'ConnectionLoss', applied: false }, 'another term: lost');
});

t.test('the results kept for late writers are bounded by their ops and triggers, not only by their count', async (t) => {
  const w = new ZkWaiters();
  // 200 multis of 1,000 creates: 600,000 stats and triggers if all were kept.
  for (let i = 1; i <= 200; i++) w.onApplied([{ index: i, term: 1 }], [{ zxid: i, txn: {} as never, result: multiResult(1000) }], i);
  const newest = await w.wait(200, 1, 60_000);
  t.equal((newest.outcome as { value: { results: unknown[] } }).value.results.length, 1000, 'the newest is kept');
  const old = await outcomeOf(w.wait(100, 1, 60_000));
  t.match(old, { zkName: 'ConnectionLoss' }, 'an old large one is not');
  t.match((old as Error).message, /result is gone; its outcome is unknown/);
  let kept = 0;
  for (let i = 1; i <= 200; i++) if (!((await outcomeOf(w.wait(i, 1, 60_000))) instanceof Error)) kept++;
  t.ok(kept >= 1 && kept <= 11, `${kept} of 200 kept (at most 2 × 16,384 ops and triggers, 3,001 each)`);
  // Small results after them are kept by the thousand again.
  for (let i = 201; i <= 3200; i++) w.onApplied([{ index: i, term: 1 }], [{ zxid: i, txn: {} as never, result: RESULT }], i);
  t.equal(await w.wait(201, 1, 60_000), RESULT, '3,000 entries back, small ones are still kept');
});

t.test('a write that times out says whether this member knows it committed', async (t) => {
  let commit = 0;
  const w = new ZkWaiters(() => commit);
  await t.rejects(w.wait(5, 1, 10), /write not committed within the timeout; its outcome is unknown/);
  commit = 7;
  await t.rejects(w.wait(6, 1, 10), /write committed at zxid 6, but not applied on this member within the timeout/, 'committed, not applied here: said so');
});
