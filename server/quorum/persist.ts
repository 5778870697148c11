// What the engine writes to the store besides snapshots: each Ready's log changes with its committed entries
// applied to the tree (in one write-behind group, after the Ready's record in the consensus write-ahead log made it
// durable: the one atomic write the core's contract asks for), the replay of that log at start, and compaction.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Committed } from '../pipeline.js';
import { applyTxn } from '../tree/apply.js';
import type { RawWriter, Store } from '../../storage/store.js';
import type { RaftLog } from '../../storage/raft-log.js';
import type { Wal } from '../../storage/wal.js';
import type { ReadyRecord } from '../../storage/ready-codec.js';
import type { TreeView } from '../../storage/view.js';
import { decodeTxn } from '../../storage/txn-codec.js';
import type { Ready } from './core/index.js';

/**
 * Inside a store write: persists `rd` (the log restarted at its snapshot if that is past `applied`, then its
 * entries and hard state) and applies its committed entries past `applied` through `view`. Collects the log's
 * mirror updates, the index and term of each entry applied, and the results of its transactions; returns the
 * index applied up to. With `raw` (a write-behind group, Store.applyPending) the log's writes join that group;
 * a snapshot is never persisted that way.
 */
export function persistReady(
  raftLog: RaftLog,
  rd: Ready,
  view: TreeView,
  applied: number,
  mirrors: (() => void)[],
  terms: { index: number; term: number }[],
  done: Committed[],
  raw?: RawWriter,
): number {
  if (rd.snapshot && rd.snapshot.metadata.index > applied) {
    if (raw) throw new Error('a snapshot is persisted only in a transaction of its own');
    mirrors.push(raftLog.resetTo(rd.snapshot.metadata.index, rd.snapshot.metadata.term));
    applied = rd.snapshot.metadata.index;
  }
  mirrors.push(raftLog.persist(rd.entries, rd.hardState, raw));
  for (const e of rd.committedEntries) {
    if (e.index <= applied) continue;
    terms.push({ index: e.index, term: e.term });
    if (e.type === 'normal' && e.data.byteLength > 0) {
      const txn = decodeTxn(e.data);
      done.push({ zxid: e.index, txn, result: applyTxn(view, txn, e.index) });
    }
    applied = e.index;
  }
  return applied;
}

/** ZooKeeper's snapCount: past it, drop applied entries except the last logRetainEntries. */
export async function maybeCompact(store: Store, raftLog: RaftLog, cfg: Config, applied: number, log: Logger): Promise<void> {
  const upTo = applied - cfg.logRetainEntries;
  if (upTo - raftLog.compactedTo < cfg.snapCount) return;
  let mirror = () => {};
  await store.writeDurably(() => {
    mirror = raftLog.compact(upTo);
  });
  mirror();
  log.info({ compactedTo: upTo }, 'log compacted');
}

/**
 * At start-up: writes the records of `wal` past the last LMDB holds (raft.walSeq) into `raftLog`, in order, and
 * releases the segments. Returns how many there were and the number of the last record either holds.
 */
export async function replayReadyLog(store: Store, wal: Wal<ReadyRecord>, raftLog: RaftLog): Promise<{ records: number; lastSeq: number }> {
  const from = store.metaGet<number>('raft.walSeq') ?? 0;
  let records = 0;
  for (const chunk of wal.recordsAfter(from, 256)) {
    // Each record's mirror update runs at once: the next record's truncation is computed from it.
    await store.writeDurably(() => {
      for (const { zxid, value: r } of chunk) {
        if (r.reset) raftLog.resetTo(r.reset.index, r.reset.term)();
        raftLog.persist(r.entries, r.hard)();
        store.metaPut('raft.walSeq', zxid);
      }
    });
    records += chunk.length;
  }
  const lastSeq = Math.max(from, wal.lastZxid);
  wal.release(lastSeq);
  return { records, lastSeq };
}
