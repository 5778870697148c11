// What a member makes of data it did not replicate itself: a tree without a consensus log (a restored snapshot, a
// data dir that ran standalone) starts the log at its zxid; a leader whose log disagrees with what this member holds
// committed (core/follower.ts refuses it) is reported, once per leader and term.
import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';
import type { RaftLog } from '../../storage/raft-log.js';
import type { ForeignLeader } from './core/index.js';
import { historyText } from './core/index.js';

/**
 * The log starts at `zxid`, as if a snapshot had been installed there (term 0), committed, in one durable write.
 * Every member given the same data then starts from the same point and zxids go on from it; a member given other
 * data than the leader's refuses that leader rather than corrupting either.
 */
export async function startLogFromTree(store: Store, raftLog: RaftLog, zxid: number, log: Logger): Promise<void> {
  let mirror = () => {};
  await store.writeDurably(() => {
    mirror = raftLog.restartAt(zxid, 0, zxid);
  });
  mirror();
  log.info({ zxid }, 'the consensus log starts from the tree this dataDir holds (a restored snapshot, or a data dir that ran standalone): every member must start from the same data');
}

/** Why this member refuses the leader of the current term; null when it refuses none. */
export function leaderRefusal(f: ForeignLeader | null): string | null {
  if (f === null) return null;
  if (f.histories !== undefined) {
    return `refusing to follow member ${f.leader} (term ${f.term}): its log belongs to another history (${historyText(f.histories.leader)}; this member's is ${historyText(f.histories.ours)}). The ensemble's history started over without this member's data: members that started with empty data dirs (lost disks, or a member that never joined) elected a leader while this member was away, and what this member holds committed is not in their log. Decide which data the ensemble keeps (docs/operations.md §8): to keep theirs, empty this member's dataDir but its myid; to keep this member's, restore a snapshot of it into every member`;
  }
  const why = f.certain ? `its log disagrees with zxid ${f.committed} that this member holds as committed` : `its log ends at zxid ${f.leaderLast}, below zxid ${f.committed} that this member holds as committed`;
  return `refusing to follow member ${f.leader} (term ${f.term}): ${why}. The members started from different data (a snapshot restored into some members only, or a data dir that ran standalone joining members that started without it); give every member the same data (docs/operations.md §8), or empty this member's dataDir but its myid to have it take the ensemble's`;
}

/** Logs a refusal once per leader and term. */
export class RefusalReport {
  private last = '';

  constructor(private readonly log: Logger) {}

  check(f: ForeignLeader | null): void {
    const key = f === null ? '' : `${f.leader}/${f.term}`;
    if (key === this.last) return;
    this.last = key;
    if (f !== null) {
      const histories = f.histories && { leader: historyText(f.histories.leader), ours: historyText(f.histories.ours) };
      this.log.error({ leader: f.leader, term: f.term, leaderLast: f.leaderLast, committed: f.committed, histories }, leaderRefusal(f) as string);
    }
  }
}
