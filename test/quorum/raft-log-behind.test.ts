// An ensemble member writes its consensus log behind (Store.applyPending): a Ready's entries and hard state are
// durable in the consensus write-ahead log, and LMDB commits them up to 10 ms later. Until then the log answers
// from what it holds in memory; once the group lands, from LMDB. And a member killed before the group lands gets
// them back from the write-ahead log at its next start (replayReadyLog), in a real child process
// (fixtures/raft-crash-child.ts).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import type { Entry, HardState } from '../../server/quorum/core/index.js';
import { replayReadyLog } from '../../server/quorum/persist.js';
import { RaftLog } from '../../storage/raft-log.js';
import { consensusWalDir, decodeReady, encodeReady, READY_CODEC, type ReadyRecord } from '../../storage/ready-codec.js';
import { Store } from '../../storage/store.js';
import { DEFAULT_WAL_OPTIONS, Wal } from '../../storage/wal.js';
import { tempDir } from '../helpers/server.js';
import { entry, LogModel, logOps, plain } from '../helpers/raft-log.js';

const CONF = { voters: [1, 2, 3], learners: [] };

function openBehind(tt: Test): { store: Store; dir: string } {
  const dir = tempDir('zkgate-raft-behind-');
  const store = Store.open({ dataDir: dir, walBacked: true });
  tt.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, dir };
}

/** As the engine writes a Ready behind: the log's writes in a write-behind group, the mirror at once. */
function persistBehind(store: Store, log: RaftLog, es: Entry[], hard: HardState | null): { gen: number; landed: Promise<void> } {
  let mirror = () => {};
  const landed = store.applyPending(0, (_view, _set, raw) => {
    mirror = log.persist(es, hard, raw);
  });
  mirror();
  return { gen: log.writeGen, landed };
}

t.test('the Ready record codec gives back entries, hard state and reset as written', async (tt) => {
  const rec: ReadyRecord = {
    entries: [entry(7, 3, 0), { ...entry(8, 3, 40), type: 'conf' }, { ...entry(9, 4, 5), type: 'noop' }],
    hard: { term: 4, vote: 2, commit: 6 },
    reset: { index: 6, term: 3 },
  };
  const back = decodeReady(encodeReady(rec));
  tt.same(plain(back.entries), plain(rec.entries));
  tt.same(back.hard, rec.hard);
  tt.same(back.reset, rec.reset);
  const bare = decodeReady(encodeReady({ entries: [], hard: null, reset: null }));
  tt.same(bare, { entries: [], hard: null, reset: null });
  tt.throws(() => decodeReady(encodeReady(rec).subarray(0, 60)), /malformed|out of range/i, 'a cut record is refused');
  const named = { ...rec, hard: { term: 4, vote: 2, commit: 6, history: 2 ** 52 + 7 } };
  const withHistory = decodeReady(encodeReady(named));
  tt.same(withHistory.hard, named.hard, 'a history rides with the hard state');
  tt.same(withHistory.reset, rec.reset);
  tt.same(plain(withHistory.entries), plain(rec.entries));
  tt.equal(encodeReady(named).length, encodeReady(rec).length + 8);
  const unknown = encodeReady(rec);
  unknown.writeUInt8(unknown.readUInt8(0) | 8, 0);
  tt.throws(() => decodeReady(unknown), /unknown flags 11/, 'a record with a flag this release does not know is refused, not misread');
});

t.test('written behind: entries answered before and after their group lands are the model, through overwrites, compaction and resets', async (tt) => {
  const op = fc.oneof(
    { weight: 6, arbitrary: logOps.append },
    // An append written straight into LMDB while groups are still behind (as a Ready with a snapshot is).
    { weight: 1, arbitrary: logOps.append.map((a) => ({ ...a, now: true })) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('land' as const) }) },
    { weight: 1, arbitrary: logOps.compact },
    { weight: 1, arbitrary: logOps.reset },
  );
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
      runs++;
      await tt.test(`run ${runs}`, async (rt) => {
        const { store } = openBehind(rt);
        const log = new RaftLog(store, CONF);
        const model = new LogModel();
        let pending: { gen: number; landed: Promise<void> }[] = [];
        const check = (what: string) => {
          const first = log.firstIndex();
          const last = log.lastIndex();
          for (let lo = first; lo <= last; lo += Math.max(1, Math.floor((last - first) / 5))) {
            const got = log.entries(lo, last + 1, Number.MAX_SAFE_INTEGER);
            rt.same(plain(got), plain(model.from(lo, last)), `${what}: entries(${lo}, ${last + 1}) as the model`);
          }
        };
        for (const o of ops) {
          const last = log.lastIndex();
          if (o.k === 'append') {
            const es = model.append(o, last);
            const hard = { term: model.term, vote: 1, commit: 0 };
            if ('now' in o) {
              let mirror = () => {};
              await store.writeDurably(() => {
                mirror = log.persist(es, hard);
              });
              mirror();
            } else pending.push(persistBehind(store, log, es, hard));
          } else if (o.k === 'land') {
            await store.appliedCommitted();
            for (const p of pending) await p.landed;
            for (const p of pending) log.landed(p.gen);
            pending = [];
          } else {
            // Compaction and resets are durable transactions of their own, after every group written behind.
            let mirror = () => {};
            if (o.k === 'compact') {
              const upTo = model.compact(o, last);
              if (upTo === undefined) continue;
              await store.writeDurably(() => {
                mirror = log.compact(upTo);
              });
            } else {
              const at = model.reset(o, last);
              await store.writeDurably(() => {
                mirror = log.resetTo(at, model.term);
              });
            }
            mirror();
            // Their groups were committed before them: landing them late must change nothing.
            for (const p of pending) await p.landed;
            for (const p of pending) log.landed(p.gen);
            pending = [];
          }
          rt.equal(log.lastIndex(), model.snap + model.entries.size);
        }
        check('with groups still behind');
        await store.appliedCommitted();
        for (const p of pending) log.landed((await p.landed, p.gen));
        check('every group landed');
        const fromLmdb = new RaftLog(store, CONF);
        rt.same(plain(fromLmdb.entries(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER)), plain(log.entries(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER)), 'LMDB holds the log');
        rt.same(fromLmdb.hardState(), log.hardState(), 'and its hard state');
      });
    }),
    { numRuns: 30 },
  );
});

t.test('a member killed before LMDB commits its Readies gets them back from the consensus write-ahead log', async (tt) => {
  const dir = tempDir('zkgate-raft-crash-');
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const proc = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/raft-crash-child.js', import.meta.url)), dir], { stdio: 'inherit' });
  const signal = await new Promise<NodeJS.Signals | null>((r) => proc.on('exit', (_c, s) => r(s)));
  tt.equal(signal, 'SIGKILL', 'the child died by SIGKILL');

  const store = Store.open({ dataDir: dir, walBacked: true });
  tt.teardown(() => store.close());
  const before = new RaftLog(store, CONF);
  tt.same(
    { last: before.lastIndex(), term2: before.term(2), hard: before.hardState() },
    { last: 2, term2: 1, hard: { term: 1, vote: 1, commit: 0 } },
    'LMDB alone holds only the Ready that landed (the crash lost the others there)',
  );
  const wal = Wal.open<ReadyRecord>(consensusWalDir(dir), { ...DEFAULT_WAL_OPTIONS, codec: READY_CODEC });
  // The replay writes into the log read at start, as the engine's does.
  const raftLog = before;
  const { records, lastSeq } = await replayReadyLog(store, wal, raftLog);
  tt.equal(records, 2, 'the two records past raft.walSeq are replayed');
  tt.equal(lastSeq, 3, 'the next record is numbered after them');
  tt.same(
    plain(raftLog.entries(1, 5, Number.MAX_SAFE_INTEGER)),
    plain([entry(1, 1, 16), entry(2, 2, 24), entry(3, 2, 24), entry(4, 3, 8)]),
    'the log is as the member had it: entry 2 overwritten, 3 and 4 appended',
  );
  tt.same(raftLog.hardState(), { term: 3, vote: 2, commit: 3 }, 'with the last hard state (its vote in term 3)');
  const reread = new RaftLog(store, CONF);
  tt.same(plain(reread.entries(1, 5, Number.MAX_SAFE_INTEGER)), plain(raftLog.entries(1, 5, Number.MAX_SAFE_INTEGER)), 'LMDB holds it now');
  const again = await replayReadyLog(store, wal, reread);
  tt.equal(again.records, 0, 'a second start replays nothing');
  await wal.close();
});
