// Leader-only behaviour: replication (probe/replicate/snapshot, pipelining within the inflight
// window), quorum commit, heartbeats and CheckQuorum, ReadIndex confirmation and leadership transfer.

import assert from 'node:assert/strict';
import type { Raft } from './raft.js';
import type { Progress } from './progress.js';
import { StorageError } from './storage.js';
import type {
  AppendResponseMessage,
  Entry,
  HeartbeatResponseMessage,
  Message,
} from './types.js';
import { NONE, entrySizeBytes } from './types.js';

const EMPTY = new Uint8Array(0);

export type ProposalResult =
  | { ok: true; firstIndex: number; lastIndex: number; term: number }
  | { ok: false; reason: 'not-leader' | 'transfer-in-progress' | 'queue-full'; leaderId: number };

export type ReadIndexResult =
  | { ok: true }
  | { ok: false; reason: 'no-leader' | 'queue-full' | 'duplicate-context' };

export type TransferResult = { ok: true } | { ok: false; reason: 'not-leader' | 'not-voter' };

export function tickLeader(r: Raft): void {
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.config.electionTicks) {
    r.electionElapsed = 0;
    if (r.config.checkQuorum && !quorumActive(r)) {
      // Partitioned from a quorum: step down so clients go elsewhere and reads stay linearizable.
      r.becomeFollower(r.term, NONE);
      return;
    }
    r.leadTransferee = NONE; // a transfer that did not finish within an election timeout failed
  }
  if (r.heartbeatElapsed >= r.config.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    bcastHeartbeat(r, undefined);
  }
}

/** True if a quorum of voters was heard from during the last election timeout; resets the marks. */
function quorumActive(r: Raft): boolean {
  let active = 0;
  for (const voter of r.voters) {
    const pr = r.progress.get(voter);
    if (voter === r.id || (pr !== undefined && pr.recentActive)) {
      active++;
    }
  }
  for (const [id, pr] of r.progress) {
    pr.recentActive = id === r.id;
  }
  return active >= r.quorum();
}

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case 'appResp':
      handleAppendResponse(r, m);
      return;
    case 'heartbeatResp':
      handleHeartbeatResponse(r, m);
      return;
    case 'readIndex':
      leaderReadIndex(r, m.ctx, m.from);
      return;
    case 'app':
    case 'heartbeat':
    case 'snap':
      assert.fail(`election safety: ${m.from} acts as leader in term ${m.term}, as do we (${r.id})`);
    default:
      return;
  }
}

function handleAppendResponse(r: Raft, m: AppendResponseMessage): void {
  const pr = r.progress.get(m.from);
  if (pr === undefined) {
    return;
  }
  pr.recentActive = true;
  if (m.reject) {
    if (m.index >= pr.match && m.rejectHint < pr.match) {
      // Its log ends below what it acknowledged: it lost them (a replaced disk, a discarded interrupted snapshot
      // install). Probing above its old match would be rejected forever, the match never going back: start over
      // from what it has. Only a commit already counted its old match, and commits are never undone.
      pr.regressTo(m.rejectHint);
      sendAppend(r, m.from);
      return;
    }
    const hint = m.logTerm > 0 ? r.log.findConflictByTerm(m.rejectHint, m.logTerm).index : m.rejectHint;
    if (pr.maybeDecrTo(m.index, hint)) {
      if (pr.state === 'replicate') {
        pr.becomeProbe();
      }
      sendAppend(r, m.from);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) {
    return;
  }
  if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'snapshot') {
    if (pr.match + 1 >= r.log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    }
  } else {
    pr.inflights.freeLE(m.index);
  }
  if (maybeCommit(r)) {
    bcastAppend(r);
  } else if (wasPaused) {
    // A paused follower may have missed commit updates sent while it was paused.
    sendAppend(r, m.from);
  }
  while (maybeSendAppend(r, m.from, false)) {
    // Pipelining: keep filling the inflight window while entries remain.
  }
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.send({ type: 'timeoutNow', to: m.from, term: r.term });
  }
}

function handleHeartbeatResponse(r: Raft, m: HeartbeatResponseMessage): void {
  const pr = r.progress.get(m.from);
  if (pr === undefined) {
    return;
  }
  pr.recentActive = true;
  // Only the first answer of a heartbeat round may send the follower more: a follower back from a pause answers the
  // heartbeats of the whole pause at once (thousands), and each sent up to an append's worth of entries read from the
  // log, which held the leader's event loop for seconds and cost the healthy members their leader.
  const round = pr.heartbeatRound;
  pr.heartbeatRound = false;
  if (round) {
    pr.msgAppFlowPaused = false;
    if (pr.state === 'replicate' && pr.inflights.full() && pr.match === pr.matchAtHeartbeat) {
      // The follower is reachable and took none of its appends over a whole round, so one of them (or its ack) was
      // probably lost: make room to resend. One that is taking them is only slower than the window: freed at every
      // heartbeat, the window slid on ahead of it by an append each time, and a catch-up of large entries spent the
      // leader's event loop reading them from the log.
      pr.inflights.freeFirstOne();
    }
    pr.matchAtHeartbeat = pr.match;
  }
  if (m.lastIndex !== undefined && m.lastIndex < pr.match) {
    // Its log ends below what it acknowledged (a replaced disk): the rejection that tells handleAppendResponse so
    // answers an append, and an ensemble taking no writes sends none. Start over from what it has.
    pr.regressTo(m.lastIndex);
    sendAppend(r, m.from);
  } else if (pr.match < r.log.lastIndex()) {
    if (round) sendAppend(r, m.from);
  } else if (m.lastIndex !== undefined && m.lastIndex > pr.match && pr.state === 'replicate' && pr.inflights.count === 0 && pr.checkedAbove !== pr.match) {
    // It holds entries it never acknowledged to this leader, with none in flight: an earlier leader's, or data this
    // ensemble never had (a snapshot restored into it alone). One append at its match, once per match, lets it
    // compare: a follower refuses a log that disagrees with what it holds committed (follower.ts).
    pr.checkedAbove = pr.match;
    sendAppend(r, m.from);
  }
  if (m.ctx.length === 0 || pr.isLearner) {
    return;
  }
  const acks = r.readOnly.recvAck(m.from, m.ctx);
  if (acks === undefined) {
    return;
  }
  let voterAcks = 0;
  for (const id of acks) {
    if (r.voters.includes(id)) {
      voterAcks++;
    }
  }
  if (voterAcks < r.quorum()) {
    return;
  }
  for (const request of r.readOnly.advance(m.ctx)) {
    respondRead(r, request.from, request.index, request.ctx);
  }
}

// ---- replication ---------------------------------------------------------------------------

/** Sends every peer what it lacks, filling each replicate-state inflight window (pipelining). */
export function bcastAppend(r: Raft): void {
  for (const id of r.progress.keys()) {
    if (id !== r.id) {
      sendAppend(r, id);
      while (maybeSendAppend(r, id, false)) {
        // bounded by the inflight window and the log's end
      }
    }
  }
}

export function sendAppend(r: Raft, to: number): void {
  maybeSendAppend(r, to, true);
}

/** Sends the next append (or a snapshot) to `to` unless its progress is paused; true if sent. */
function maybeSendAppend(r: Raft, to: number, sendIfEmpty: boolean): boolean {
  const pr = r.progress.get(to);
  assert.ok(pr !== undefined, `no progress for ${to}`);
  if (pr.isPaused()) {
    return false;
  }
  const prevIndex = pr.next - 1;
  assert.ok(prevIndex <= r.log.lastIndex(), `next ${pr.next} of ${to} beyond our log`);
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined) {
    return sendSnapshot(r, to, pr);
  }
  let entries: Entry[];
  try {
    entries = r.log.entriesFrom(pr.next, r.config.maxSizePerMsg);
  } catch (error) {
    if (error instanceof StorageError && error.code === 'compacted') {
      return sendSnapshot(r, to, pr);
    }
    throw error;
  }
  if (entries.length === 0 && !sendIfEmpty) {
    return false;
  }
  r.send({ type: 'app', to, term: r.term, index: prevIndex, logTerm: prevTerm, entries, commit: r.log.committed, leaderLast: r.log.lastIndex(), history: r.history });
  let bytes = 0;
  for (const entry of entries) {
    bytes += entrySizeBytes(entry);
  }
  pr.sentEntries(prevIndex + entries.length, entries.length, bytes);
  return true;
}

function sendSnapshot(r: Raft, to: number, pr: Progress): boolean {
  if (!pr.recentActive) {
    return false; // don't ship a possibly large snapshot to a node that may be down
  }
  let snapshot;
  try {
    snapshot = r.log.snapshot();
  } catch (error) {
    if (error instanceof StorageError && error.code === 'snapshot-temporarily-unavailable') {
      return false;
    }
    throw error;
  }
  assert.ok(snapshot.metadata.index > 0, 'the log is compacted, so a snapshot must exist');
  pr.becomeSnapshot(snapshot.metadata.index);
  r.send({ type: 'snap', to, term: r.term, snapshot, history: r.history });
  return true;
}

function bcastHeartbeat(r: Raft, ctx: Uint8Array | undefined): void {
  const context = ctx ?? r.readOnly.lastPendingContext() ?? EMPTY;
  for (const [id, pr] of r.progress) {
    if (id !== r.id) {
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, r.log.committed);
      pr.heartbeatRound = true;
      r.send({ type: 'heartbeat', to: id, term: r.term, commit, ctx: context, history: r.history, leaderLast: r.log.lastIndex() });
    }
  }
}

/** Advances the commit index to the highest index a quorum of voters holds, if of our term. */
function maybeCommit(r: Raft): boolean {
  const matches: number[] = [];
  for (const voter of r.voters) {
    matches.push(r.progress.get(voter)?.match ?? 0);
  }
  matches.sort((a, b) => b - a);
  const hadCommitInTerm = r.committedEntryInCurrentTerm();
  const advanced = r.log.maybeCommit(matches[r.quorum() - 1], r.term);
  if (advanced && !hadCommitInTerm) {
    releasePendingReads(r);
  }
  return advanced;
}

/** Our own entries became durable: count them towards the quorum. */
export function selfAcknowledge(r: Raft): void {
  const self = r.progress.get(r.id);
  assert.ok(self !== undefined, 'own progress exists');
  if (self.maybeUpdate(r.log.stableLastIndex()) && maybeCommit(r)) {
    bcastAppend(r);
  }
}

// ---- proposals -----------------------------------------------------------------------------

export function propose(r: Raft, datas: Uint8Array[]): ProposalResult {
  assert.ok(datas.length > 0, 'propose needs at least one entry');
  if (r.role !== 'leader') {
    return { ok: false, reason: 'not-leader', leaderId: r.lead };
  }
  if (r.leadTransferee !== NONE) {
    return { ok: false, reason: 'transfer-in-progress', leaderId: r.lead };
  }
  const first = r.log.lastIndex() + 1;
  const entries: Entry[] = datas.map((data, i) => ({ index: first + i, term: r.term, type: 'normal', data }));
  let bytes = 0;
  for (const entry of entries) {
    bytes += entrySizeBytes(entry);
  }
  // One oversized proposal is let through on an empty queue, or it could never be committed.
  if (r.uncommittedBytes > 0 && r.uncommittedBytes + bytes > r.config.maxUncommittedBytes) {
    return { ok: false, reason: 'queue-full', leaderId: r.lead };
  }
  r.uncommittedBytes += bytes;
  r.log.append(entries);
  bcastAppend(r);
  return { ok: true, firstIndex: first, lastIndex: first + entries.length - 1, term: r.term };
}

/** Committed entries were applied: they no longer count against maxUncommittedBytes. */
export function reduceUncommitted(r: Raft, entries: Entry[]): void {
  if (r.role !== 'leader') {
    return;
  }
  for (const entry of entries) {
    if (entry.type === 'normal') {
      r.uncommittedBytes = Math.max(0, r.uncommittedBytes - entrySizeBytes(entry));
    }
  }
}

// ---- ReadIndex -----------------------------------------------------------------------------

export function readIndex(r: Raft, ctx: Uint8Array): ReadIndexResult {
  if (r.role === 'leader') {
    return leaderReadIndex(r, ctx, r.id);
  }
  if (r.lead === NONE || r.role === 'candidate' || r.role === 'precandidate') {
    return { ok: false, reason: 'no-leader' };
  }
  r.send({ type: 'readIndex', to: r.lead, term: r.term, ctx });
  return { ok: true };
}

function leaderReadIndex(r: Raft, ctx: Uint8Array, from: number): ReadIndexResult {
  if (!r.committedEntryInCurrentTerm()) {
    // Until an entry of our term commits, our commit index may lag what earlier leaders
    // committed, so it is not yet a safe read index.
    if (r.pendingReads.length >= r.config.maxPendingReadIndex) {
      return { ok: false, reason: 'queue-full' };
    }
    r.pendingReads.push({ ctx, from });
    return { ok: true };
  }
  if (r.voters.length === 1) {
    respondRead(r, from, r.log.committed, ctx);
    return { ok: true };
  }
  if (r.readOnly.full()) {
    return { ok: false, reason: 'queue-full' };
  }
  if (!r.readOnly.add(r.log.committed, ctx, from, r.id)) {
    return { ok: false, reason: 'duplicate-context' };
  }
  bcastHeartbeat(r, ctx);
  return { ok: true };
}

function releasePendingReads(r: Raft): void {
  const pending = r.pendingReads;
  r.pendingReads = [];
  for (const request of pending) {
    leaderReadIndex(r, request.ctx, request.from);
  }
}

function respondRead(r: Raft, from: number, index: number, ctx: Uint8Array): void {
  if (from === r.id) {
    r.readStates.push({ index, ctx });
  } else {
    r.send({ type: 'readIndexResp', to: from, term: r.term, index, ctx });
  }
}

// ---- leadership transfer and transport feedback --------------------------------------------

export function transferLeadership(r: Raft, to: number): TransferResult {
  if (r.role !== 'leader') {
    return { ok: false, reason: 'not-leader' };
  }
  if (!r.voters.includes(to)) {
    return { ok: false, reason: 'not-voter' };
  }
  if (to === r.id || to === r.leadTransferee) {
    return { ok: true };
  }
  // The transfer must finish within one election timeout or it is abandoned (tickLeader).
  r.electionElapsed = 0;
  r.leadTransferee = to;
  const pr = r.progress.get(to);
  assert.ok(pr !== undefined, `no progress for voter ${to}`);
  if (pr.match === r.log.lastIndex()) {
    r.send({ type: 'timeoutNow', to, term: r.term });
  } else {
    sendAppend(r, to);
  }
  return { ok: true };
}

export function reportUnreachable(r: Raft, id: number): void {
  const pr = r.progress.get(id);
  if (r.role === 'leader' && pr !== undefined && pr.state === 'replicate') {
    pr.becomeProbe();
  }
}

export function reportSnapshot(r: Raft, id: number, delivered: boolean): void {
  const pr = r.progress.get(id);
  if (r.role !== 'leader' || pr === undefined || pr.state !== 'snapshot') {
    return;
  }
  if (!delivered) {
    pr.pendingSnapshot = 0;
  }
  // Wait for the follower's ack (or a heartbeat response) before probing again.
  pr.becomeProbe();
  pr.msgAppFlowPaused = true;
}
