// What the engine writes to the store besides snapshots: each Ready's log changes with its committed entries
// applied to the tree (in the one transaction the core's contract asks for), and log compaction.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Committed } from '../pipeline.js';
import { applyTxn } from '../tree/apply.js';
import type { Store } from '../../storage/store.js';
import type { RaftLog } from '../../storage/raft-log.js';
import type { TreeView } from '../../storage/view.js';
import { decodeTxn } from '../../storage/txn-codec.js';
import type { Ready } from './core/index.js';

/**
 * Inside a store write: persists `rd` (the log restarted at its snapshot if that is past `applied`, then its
 * entries and hard state) and applies its committed entries past `applied` through `view`. Collects the log's
 * mirror updates, the index and term of each entry applied, and the results of its transactions; returns the
 * index applied up to.
 */
export function persistReady(
  raftLog: RaftLog,
  rd: Ready,
  view: TreeView,
  applied: number,
  mirrors: (() => void)[],
  terms: { index: number; term: number }[],
  done: Committed[],
): number {
  if (rd.snapshot && rd.snapshot.metadata.index > applied) {
    mirrors.push(raftLog.resetTo(rd.snapshot.metadata.index, rd.snapshot.metadata.term));
    applied = rd.snapshot.metadata.index;
  }
  mirrors.push(raftLog.persist(rd.entries, rd.hardState));
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
