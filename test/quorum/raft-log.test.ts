// The consensus log in LMDB keeps its newest entries in memory as well: what it answers from memory must be what
// LMDB holds, through appends that overwrite a conflicting suffix, compaction, a reset to a snapshot, and its
// bounds. Each answer is checked against a model and against a second RaftLog on the same store, which has
// nothing in memory and reads every entry from LMDB.

import fc from 'fast-check';
import t, { type Test } from 'tap';
import type { Entry } from '../../server/quorum/core/index.js';
import { RECENT_ENTRIES_MAX, RECENT_ENTRIES_MAX_BYTES, RaftLog } from '../../storage/raft-log.js';
import type { Store } from '../../storage/store.js';
import { openTestStore } from '../helpers/store.js';
import { entry, LogModel, logOps, plain } from '../helpers/raft-log.js';

const CONF = { voters: [1, 2, 3], learners: [] };

function openLog(tt: Test): { store: Store; log: RaftLog } {
  const { store } = openTestStore(tt, 'zkgate-raft-log-');
  return { store, log: new RaftLog(store, CONF) };
}

/** Runs one of the log's writes in a store transaction, then its mirror update, as the engine does. */
async function write(store: Store, fn: () => () => void): Promise<void> {
  let mirror = () => {};
  await store.writeDurably(() => {
    mirror = fn();
  });
  mirror();
}

/** The first entries of `es` within `max` bytes (16 more per entry), at least one: the Storage contract. */
function limited(es: Entry[], max: number): Entry[] {
  const out: Entry[] = [];
  let bytes = 0;
  for (const e of es) {
    bytes += e.data.byteLength + 16;
    if (out.length > 0 && bytes > max) break;
    out.push(e);
  }
  return out;
}

t.test('entries served from memory are the entries LMDB holds, through overwrites, compaction and resets', async (tt) => {
  const op = fc.oneof(
    { weight: 6, arbitrary: logOps.append },
    { weight: 1, arbitrary: logOps.compact },
    { weight: 1, arbitrary: logOps.reset },
  );
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
      runs++;
      await tt.test(`run ${runs}`, async (rt) => {
        const { store, log } = openLog(rt);
        const model = new LogModel();
        for (const o of ops) {
          const last = log.lastIndex();
          if (o.k === 'append') {
            const es = model.append(o, last);
            await write(store, () => log.persist(es, { term: model.term, vote: 1, commit: 0 }));
          } else if (o.k === 'compact') {
            const upTo = model.compact(o, last);
            if (upTo !== undefined) await write(store, () => log.compact(upTo));
          } else {
            const at = model.reset(o, last);
            await write(store, () => log.resetTo(at, model.term));
          }
          rt.equal(log.firstIndex(), model.snap + 1);
          rt.equal(log.lastIndex(), model.snap + model.entries.size);
        }
        const fromLmdb = new RaftLog(store, CONF);
        const first = log.firstIndex();
        const last = log.lastIndex();
        for (let lo = first; lo <= last; lo += Math.max(1, Math.floor((last - first) / 7))) {
          for (const max of [0, 1024, Number.MAX_SAFE_INTEGER]) {
            const got = log.entries(lo, last + 1, max);
            rt.same(plain(got), plain(limited(model.from(lo, last), max)), `entries(${lo}, ${last + 1}, ${max}) as the model`);
            rt.same(plain(got), plain(fromLmdb.entries(lo, last + 1, max)), `entries(${lo}, ${last + 1}, ${max}) as LMDB holds them`);
          }
        }
      });
    }),
    { numRuns: 40 },
  );
});

t.test('the newest entries come from memory, within the count and byte bounds (bytes of the buffers they hold); older ones from LMDB', async (tt) => {
  const { store, log } = openLog(tt);
  const written: Entry[] = [];
  for (let b = 0; b < 5; b++) {
    const batch = Array.from({ length: 1000 }, (_x, i) => entry(b * 1000 + i + 1, 1, 16));
    written.push(...batch);
    await write(store, () => log.persist(batch, { term: 1, vote: 1, commit: 0 }));
  }
  const last = written.length;
  const newest = log.entries(last - RECENT_ENTRIES_MAX + 1, last + 1, Number.MAX_SAFE_INTEGER);
  tt.equal(newest.length, RECENT_ENTRIES_MAX);
  tt.ok(
    newest.every((e) => e === written[e.index - 1]),
    `the newest ${RECENT_ENTRIES_MAX} entries are the very objects written (kept in memory)`,
  );
  const older = log.entries(last - RECENT_ENTRIES_MAX, last - RECENT_ENTRIES_MAX + 1, Number.MAX_SAFE_INTEGER);
  tt.not(older[0], written[last - RECENT_ENTRIES_MAX - 1], 'the one before them is read from LMDB');
  tt.same(plain(older), plain([written[last - RECENT_ENTRIES_MAX - 1] as Entry]));

  // Large entries: the byte bound keeps fewer.
  const big = 1024 * 1024;
  const bigs = Array.from({ length: 12 }, (_x, i) => entry(last + 1 + i, 2, big));
  await write(store, () => log.persist(bigs, { term: 2, vote: 1, commit: 0 }));
  const kept = Math.floor(RECENT_ENTRIES_MAX_BYTES / big);
  const end = last + bigs.length;
  const fromMemory = log.entries(end - kept + 1, end + 1, Number.MAX_SAFE_INTEGER);
  tt.ok(fromMemory.every((e) => e === bigs[e.index - last - 1]), `the newest ${kept} MB-sized entries are kept in memory`);
  const beyond = log.entries(end - kept, end - kept + 1, Number.MAX_SAFE_INTEGER);
  tt.not(beyond[0], bigs[bigs.length - kept - 1], `the ${kept + 1}th newest is read from LMDB`);
  tt.same(plain(beyond), plain([bigs[bigs.length - kept - 1] as Entry]));

  // Small entries that are views of one large buffer (a received frame) keep all of it: each counts it whole.
  const frame = new ArrayBuffer(1024 * 1024);
  const views = Array.from({ length: 20 }, (_x, i): Entry => ({ index: end + 1 + i, term: 3, type: 'normal', data: new Uint8Array(frame, i * 64, 64) }));
  await write(store, () => log.persist(views, { term: 3, vote: 1, commit: 0 }));
  const last3 = end + views.length;
  const viewsKept = Math.floor(RECENT_ENTRIES_MAX_BYTES / frame.byteLength);
  const held = log.entries(last3 - viewsKept + 1, last3 + 1, Number.MAX_SAFE_INTEGER);
  tt.ok(held.every((e) => e === views[e.index - end - 1]), `the newest ${viewsKept} views of a 1 MB buffer are kept in memory`);
  const notHeld = log.entries(last3 - viewsKept, last3 - viewsKept + 1, Number.MAX_SAFE_INTEGER);
  tt.not(notHeld[0], views[views.length - viewsKept - 1], 'the one before them is read from LMDB, though its own bytes are few');
  tt.same(plain(notHeld), plain([views[views.length - viewsKept - 1] as Entry]));
});

t.test('entries a compaction drops are compacted from the moment it asks: LMDB may have dropped them before its mirror runs', async (tt) => {
  const { store, log } = openLog(tt);
  // More than the log keeps in memory, so the oldest are read from LMDB.
  const n = RECENT_ENTRIES_MAX + 100;
  await write(store, () => log.persist(Array.from({ length: n }, (_, i) => entry(i + 1, 1, 8)), { term: 1, vote: 1, commit: n }));
  tt.same(log.entries(40, 43, 1 << 20).map((e) => e.index), [40, 41, 42], 'old entries come from LMDB');
  let mirror = () => {};
  await store.writeDurably(() => {
    mirror = log.compact(50);
  });
  // The transaction has committed (LMDB holds no entry up to 50); the engine has not run the mirror yet.
  tt.throws(() => log.entries(40, 60, 1 << 20), { code: 'compacted' }, 'not "missing", and not the entries after 50 handed out as if they began at 40');
  tt.same(log.entries(51, 54, 1 << 20).map((e) => e.index), [51, 52, 53], 'those after it are there');
  mirror();
  tt.equal(log.firstIndex(), 51);
  tt.throws(() => log.entries(50, 52, 1 << 20), { code: 'compacted' });
});
