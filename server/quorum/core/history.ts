// Which history a log belongs to. Raft's log matching takes two logs that hold an entry of the same index and term
// to be equal up to it; that holds within one history, where terms only grow. Members that started with empty logs
// (a new ensemble, or two lost disks in three) begin again at term 0, so their entries can carry the same indexes and
// terms as those of a member that kept the old log, and that member would take the new entries as its own, keep its
// old ones beneath them, and hold a tree no other member has, without a word.
//
// So a log has a history: a number drawn by the leader that founds it (a leader whose log is empty when it wins: the
// ensemble's first, or one elected by members that all lost their data), made durable before anything carrying it
// leaves, and taken by each node from the leader it follows. It binds once the node holds something committed in it:
// from then on the node refuses a leader, and a candidate, of another history. Before that it binds nothing, as
// nothing of it is committed as far as the node knows: a founder cut off before its first commit, or a follower of
// one, must take the history the others went on with, or wait for them forever.
// 0 (or absent: a log written by a release before it, or one started from a restored tree) means none: nothing is
// compared, and such ensembles keep only the other checks (follower.ts).
import type { Rand } from './rand.js';

/** A new history: about 52 random bits, never 0, exact as a JS number. */
export function drawHistory(rand: Rand): number {
  return rand.intn(2 ** 26) * 2 ** 26 + rand.intn(2 ** 26) + 1;
}

/** Whether a node whose log is of `history` and holds entries up to `committed` committed is bound to it. */
export function bound(history: number, committed: number): boolean {
  return history !== 0 && committed >= 1;
}

/** Whether `theirs` (a message's) names a history other than `ours`; false when either has none. */
export function otherHistory(ours: number, theirs: number | undefined): boolean {
  return ours !== 0 && theirs !== undefined && theirs !== 0 && theirs !== ours;
}

/** A history as operators see it in logs and the cluster view. */
export function historyText(h: number): string {
  return h === 0 ? 'none' : h.toString(16).padStart(13, '0');
}
