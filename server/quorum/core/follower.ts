// The follower side of replication: appends, heartbeats and snapshots from the leader, and what a follower does with
// the other messages of its role. Functions of the Raft state, as leader.ts's are.

import assert from 'node:assert/strict';
import type { Raft } from './raft.js';
import type { AppendMessage, HeartbeatMessage, Message, Snapshot, SnapshotMessage } from './types.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'app':
    case 'heartbeat':
    case 'snap':
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
  // The leader never sends a commit past the follower's match, so this clamps only for a follower whose log went
  // back below what it had acknowledged: one that discarded an interrupted snapshot install and restarted empty
  // (the leader keeps its old match). Its entries all came from this leader since, so those up to its last index
  // are committed; asserting instead crashed it on every heartbeat until the leader changed.
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  r.send({ type: 'heartbeatResp', to: m.from, term: r.term, ctx: m.ctx });
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
