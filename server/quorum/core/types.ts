// Plain-data types that cross the consensus core's boundary: log entries, messages, durable and
// volatile state, and the Ready batch. Everything here is msgpack-serialisable (numbers, strings,
// booleans, Uint8Array, arrays, plain objects) so the ensemble can ship it over TCP unchanged.

/** Node ids are positive integers, unique forever; 0 means "nobody" (no vote, no leader). */
export const NONE = 0;

export type EntryType = 'normal' | 'conf' | 'noop';

/** One log entry. `index` is also the zxid of the transaction it carries (see README.md). */
export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: Uint8Array;
}

/** State that must be durable before any message produced alongside it leaves the node. */
export interface HardState {
  term: number;
  vote: number;
  commit: number;
  /**
   * The history this node's log belongs to (history.ts): drawn by the leader that founds the log (empty when it
   * won), taken from its leader by a node holding nothing committed in a history. Absent or 0: none (a new node, a
   * log written before it existed, or one started from a restored tree).
   */
  history?: number;
}

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader' | 'learner';

/** Volatile state, reported only when it changes; never needs persisting. */
export interface SoftState {
  leaderId: number;
  role: Role;
}

export interface ConfState {
  voters: number[];
  learners: number[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  voters: number[];
  learners: number[];
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/** A linearizable read may be served once the state machine has applied `index`. */
export interface ReadState {
  index: number;
  ctx: Uint8Array;
}

interface Envelope {
  from: number;
  to: number;
  term: number;
}

/** Leader → follower/learner: entries following (index, logTerm), plus the leader's commit. */
export interface AppendMessage extends Envelope {
  type: 'app';
  index: number;
  logTerm: number;
  entries: Entry[];
  commit: number;
  /**
   * The leader's last index when it sent this: a follower that started empty holds that much before it votes as any
   * member (amnesia.ts). Absent from releases before it, which gave only `commit`.
   */
  leaderLast?: number;
  /** The leader's history (history.ts); absent from releases before it. */
  history?: number;
}

/**
 * Reply to 'app' or 'snap'. On success `index` is the last index known to match the leader.
 * On rejection `index` echoes the rejected probe and (rejectHint, logTerm) name the follower's
 * best guess of where the logs may still agree, so the leader can skip a whole term at once.
 */
export interface AppendResponseMessage extends Envelope {
  type: 'appResp';
  index: number;
  reject: boolean;
  rejectHint: number;
  logTerm: number;
}

/** `ctx` is empty unless the heartbeat also confirms leadership for a ReadIndex request. */
export interface HeartbeatMessage extends Envelope {
  type: 'heartbeat';
  commit: number;
  ctx: Uint8Array;
  history?: number;
  /**
   * The leader's last index, as on an append: a follower that started empty and is sent a snapshot, not appends, is
   * reached by a leader all the same (amnesia.ts). Absent from releases before it.
   */
  leaderLast?: number;
}

export interface HeartbeatResponseMessage extends Envelope {
  type: 'heartbeatResp';
  ctx: Uint8Array;
  /**
   * The follower's last index: a leader learns from it, with no append to answer, that the follower's log ends below
   * what it acknowledged, or holds entries it never acknowledged (leader.ts). Absent from releases before it.
   */
  lastIndex?: number;
}

/** `transfer` marks a campaign started by leadership transfer: it may break a CheckQuorum lease. */
export interface VoteMessage extends Envelope {
  type: 'vote' | 'preVote';
  index: number;
  logTerm: number;
  transfer: boolean;
  /** The candidate's history (history.ts); absent from releases before it. */
  history?: number;
}

export interface VoteResponseMessage extends Envelope {
  type: 'voteResp' | 'preVoteResp';
  reject: boolean;
}

export interface SnapshotMessage extends Envelope {
  type: 'snap';
  snapshot: Snapshot;
  history?: number;
}

/** Leader → transfer target: campaign now, without waiting for an election timeout. */
export interface TimeoutNowMessage extends Envelope {
  type: 'timeoutNow';
}

/** Follower → leader: please confirm leadership and tell me the read index for `ctx`. */
export interface ReadIndexMessage extends Envelope {
  type: 'readIndex';
  ctx: Uint8Array;
}

export interface ReadIndexResponseMessage extends Envelope {
  type: 'readIndexResp';
  index: number;
  ctx: Uint8Array;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

/**
 * Everything the application must do, in this order: persist snapshot, entries and hardState
 * (durably when mustSync), then send messages, then apply snapshot and committedEntries,
 * then call advance(ready). See README.md for the full contract.
 */
export interface Ready {
  /** Present only when leader or role changed since the previous Ready. */
  softState: SoftState | null;
  /** Present only when term, vote or commit changed since the previous Ready. */
  hardState: HardState | null;
  readStates: ReadState[];
  /** Append these; writing entry i first discards every persisted entry with index >= i. */
  entries: Entry[];
  /** Replaces the whole log prefix up to snapshot.metadata.index when present. */
  snapshot: Snapshot | null;
  committedEntries: Entry[];
  messages: Message[];
  /** False when only the commit index changed: that write may skip fsync. */
  mustSync: boolean;
}

/** Fixed overhead counted per entry so that empty entries still consume the byte budgets. */
export const ENTRY_OVERHEAD_BYTES = 16;

export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

export function isEmptySnapshot(snapshot: Snapshot | null): boolean {
  return snapshot === null || snapshot.metadata.index === 0;
}
