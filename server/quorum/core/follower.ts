// The follower side of replication: appends, heartbeats and snapshots from the leader, and what a follower does with
// the other messages of its role. Functions of the Raft state, as leader.ts's are.

import assert from 'node:assert/strict';
import type { Raft } from './raft.js';
import type { AppendMessage, HeartbeatMessage, Message, Snapshot, SnapshotMessage } from './types.js';
import { NONE } from './types.js';
import { otherHistory } from './history.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'app':
    case 'heartbeat':
    case 'snap':
      if (!acceptLeader(r, m)) return;
      r.electionElapsed = 0;
      r.lead = m.from;
      fromLeader(r, m);
      return;
    case 'timeoutNow':
      r.hup(true);
      return;
    case 'readIndexResp':
      r.readStates.push({ index: m.index, ctx: m.ctx });
      return;
    default:
      return;
  }
}

/**
 * A leader whose log disagrees with what this node holds as committed cannot share its history (every leader holds
 * everything committed, and committed entries never change): the members started from different data (a snapshot
 * restored into some of them only, a data dir that ran standalone joining members that started without it).
 * Following it would answer its probes with a match it does not have, or append its entries onto other data.
 * - An append whose previous entry is at or below this node's commit with another term: certain. The leader is
 *   refused for the rest of its term.
 * - An append showing a log that ends below this node's commit (`leaderLast`): the leader lacks entries, or (only
 *   where messages outlive a restart, as in the simulator) this is a late copy. Dropped, with the leader refused
 *   until an append shows a log that reaches the commit.
 * - An append below the start of a log started from a tree (a restored snapshot: term 0 at its zxid): a leader
 *   sharing that start has no entry below it. Certain.
 * - Any message of a leader whose log belongs to another history than the one this node holds committed entries of
 *   (history.ts). Certain.
 * Once this node has followed the leader in this term, the second does not apply (a late copy).
 */
function refused(r: Raft, m: AppendMessage | HeartbeatMessage | SnapshotMessage): boolean {
  const f = r.foreignLeader;
  const known = f !== null && f.leader === m.from && f.term === m.term;
  if (r.boundToHistory() && otherHistory(r.history, m.history)) {
    const leaderLast = m.type === 'app' ? (m.leaderLast ?? m.index) : 0;
    r.foreignLeader = { leader: m.from, term: m.term, leaderLast, committed: r.log.committed, certain: true, histories: { leader: m.history as number, ours: r.history } };
    return true;
  }
  if (m.type !== 'app') return known;
  if (known && f.certain) return true;
  let conflicts = false;
  if (m.index <= r.log.committed) {
    const start = r.log.firstIndex() - 1;
    // Below the log's start only a log started from a tree (term 0 there) can tell: a leader sharing it never sends
    // below it. From the start on, this node knows the term of every index up to its commit.
    const ours = m.index < start ? undefined : r.log.term(m.index);
    conflicts = m.index < start ? start > 0 && r.log.term(start) === 0 : ours !== undefined && ours !== m.logTerm;
  }
  const followed = r.followed.leader === m.from && r.followed.term === m.term;
  const short = !followed && m.leaderLast !== undefined && m.leaderLast < r.log.committed;
  if (!conflicts && !short) return false;
  r.foreignLeader = { leader: m.from, term: m.term, leaderLast: m.leaderLast ?? m.index, committed: r.log.committed, certain: conflicts };
  return true;
}

/** Whether this node follows the sender (see refused); a refused one is not named as leader. */
export function acceptLeader(r: Raft, m: AppendMessage | HeartbeatMessage | SnapshotMessage): boolean {
  if (refused(r, m)) {
    r.lead = NONE;
    return false;
  }
  r.foreignLeader = null;
  r.followed = { leader: m.from, term: m.term };
  // Durable with the Ready that answers this, before the answer leaves. A history that binds nothing yet gives way.
  if (!r.boundToHistory() && m.history !== undefined && m.history !== 0) r.history = m.history;
  return true;
}

/** What the leader of the current term sends: the caller has made this node its follower. */
export function fromLeader(r: Raft, m: AppendMessage | HeartbeatMessage | SnapshotMessage): void {
  switch (m.type) {
    case 'app':
      handleAppend(r, m);
      return;
    case 'heartbeat':
      handleHeartbeat(r, m);
      return;
    case 'snap':
      handleSnapshot(r, m);
      return;
  }
}

function handleAppend(r: Raft, m: AppendMessage): void {
  r.amnesia.heard(Math.max(m.commit, m.leaderLast ?? 0), m.term);
  const base = { to: m.from, term: r.term };
  if (m.index < r.log.committed) {
    r.send({ ...base, type: 'appResp', index: r.log.committed, reject: false, rejectHint: 0, logTerm: 0 });
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send({ ...base, type: 'appResp', index: lastNew, reject: false, rejectHint: 0, logTerm: 0 });
    return;
  }
  const hint = r.log.findConflictByTerm(Math.min(m.index, r.log.lastIndex()), m.logTerm);
  r.send({ ...base, type: 'appResp', index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
}

function handleHeartbeat(r: Raft, m: HeartbeatMessage): void {
  // A member caught up by a snapshot gets no append until the copy is installed (a minute for a large tree): the
  // heartbeats tell it a leader reached it, and how far that leader's log went, or it would go on voting only for
  // an empty log, and the ensemble could elect no one if that leader died meanwhile.
  if (m.leaderLast !== undefined) r.amnesia.heard(Math.max(m.commit, m.leaderLast), m.term);
  // The leader never sends a commit past the follower's match, so this clamps only for a follower whose log went
  // back below what it had acknowledged: one that discarded an interrupted snapshot install and restarted empty
  // (the leader keeps its old match). Its entries all came from this leader since, so those up to its last index
  // are committed; asserting instead crashed it on every heartbeat until the leader changed.
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  r.send({ type: 'heartbeatResp', to: m.from, term: r.term, ctx: m.ctx, lastIndex: r.log.lastIndex() });
}

function handleSnapshot(r: Raft, m: SnapshotMessage): void {
  const index = restore(r, m.snapshot) ? r.log.lastIndex() : r.log.committed;
  r.send({ type: 'appResp', to: m.from, term: r.term, index, reject: false, rejectHint: 0, logTerm: 0 });
}

/** Installs a snapshot from the leader; false if it adds nothing to what we have committed. */
function restore(r: Raft, snapshot: Snapshot): boolean {
  const { index, term, voters, learners } = snapshot.metadata;
  if (index <= r.log.committed) {
    return false;
  }
  if (r.log.matchTerm(index, term)) {
    // We already hold the entry the snapshot ends at, so the log up to it is the leader's:
    // just fast-forward the commit instead of throwing our log away.
    r.log.commitTo(index);
    return false;
  }
  r.log.restore(snapshot);
  r.voters = [...voters].sort((a, b) => a - b);
  r.learners = [...learners].sort((a, b) => a - b);
  assert.ok(r.isMember(r.id), 'snapshot configuration excludes this node');
  r.role = r.promotable() ? 'follower' : 'learner';
  r.resetProgress();
  return true;
}
