// RawNode: the application's handle on one consensus node. Inputs (tick, step, propose, readIndex,
// transferLeadership) go in; ready() hands out one batch of work and advance() acknowledges it.

import assert from 'node:assert/strict';
import type { ConfigInput } from './config.js';
import { resolveConfig } from './config.js';
import * as leader from './leader.js';
import type { ProposalResult, ReadIndexResult, TransferResult } from './leader.js';
import type { ProgressState } from './progress.js';
import { Raft, type ForeignLeader } from './raft.js';
import type { CatchUp } from './amnesia.js';
import type { Storage } from './storage.js';
import type { ConfState, HardState, Message, Ready, Role, SoftState } from './types.js';

export type { ProposalResult, ReadIndexResult, TransferResult } from './leader.js';

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  learner: boolean;
  recentActive: boolean;
  paused: boolean;
}

export interface Status {
  id: number;
  term: number;
  vote: number;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  leaderId: number;
  role: Role;
  leadTransferee: number;
  conf: ConfState;
  hardState: HardState;
  /** The leader's view of each member; null on non-leaders. */
  progress: Record<number, ProgressStatus> | null;
}

export class RawNode {
  private readonly raft: Raft;
  private previousSoft: SoftState;
  private previousHard: HardState;
  private readyOutstanding = false;

  /**
   * Creates a node or restarts one: storage's initialState, snapshot and entries are the
   * durable state, and config.applied says how far the application's state machine already is.
   */
  constructor(configInput: ConfigInput, storage: Storage) {
    this.raft = new Raft(resolveConfig(configInput), storage);
    this.previousSoft = this.softState();
    this.previousHard = this.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (bootstrap, tests); ignored on leaders and learners. */
  campaign(): void {
    this.raft.hup(false);
  }

  /** Feeds a message received from a peer. Messages for another node are a caller bug. */
  step(message: Message): void {
    this.raft.step(message);
  }

  /**
   * Appends one entry per element on the leader, in order, and returns where they landed
   * (index = zxid). Followers refuse: the application forwards writes to leaderId itself.
   */
  propose(datas: Uint8Array[]): ProposalResult {
    return leader.propose(this.raft, datas);
  }

  /**
   * Requests a linearizable read point for ctx (unique per request). The answer arrives later as
   * a ReadState in some Ready; none arrives if leadership changes, so callers need a timeout.
   */
  readIndex(ctx: Uint8Array): ReadIndexResult {
    return leader.readIndex(this.raft, ctx);
  }

  /** On the leader: hand leadership to voter `to`; proposals are refused until it completes. */
  transferLeadership(to: number): TransferResult {
    return leader.transferLeadership(this.raft, to);
  }

  /** The transport could not reach `id`: stop pipelining to it and probe instead. */
  reportUnreachable(id: number): void {
    leader.reportUnreachable(this.raft, id);
  }

  /** Whether the snapshot message to `id` was delivered; the leader resumes probing either way. */
  reportSnapshot(id: number, delivered: boolean): void {
    leader.reportSnapshot(this.raft, id, delivered);
  }

  hasReady(): boolean {
    const r = this.raft;
    return (
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.unstable.entries.length > 0 ||
      r.log.hasPendingSnapshot() ||
      r.log.hasNextCommittedEntries() ||
      !softEqual(this.softState(), this.previousSoft) ||
      !hardEqual(this.hardState(), this.previousHard)
    );
  }

  /** One batch of work; the caller must pass it to advance() before asking for another. */
  ready(): Ready {
    assert.ok(!this.readyOutstanding, 'ready() called again before advance()');
    const r = this.raft;
    const soft = this.softState();
    const hard = this.hardState();
    const hardChanged = !hardEqual(hard, this.previousHard);
    const entries = r.log.unstable.entries.slice();
    const ready: Ready = {
      softState: softEqual(soft, this.previousSoft) ? null : soft,
      hardState: hardChanged ? hard : null,
      readStates: r.readStates,
      entries,
      snapshot: r.log.unstable.snapshot,
      committedEntries: r.log.nextCommittedEntries(r.config.maxCommittedBytesPerReady),
      messages: r.msgs,
      mustSync:
        entries.length > 0 ||
        r.log.unstable.snapshot !== null ||
        hard.term !== this.previousHard.term ||
        hard.vote !== this.previousHard.vote ||
        (hard.history ?? 0) !== (this.previousHard.history ?? 0),
    };
    r.msgs = [];
    r.readStates = [];
    this.previousSoft = soft;
    this.readyOutstanding = true;
    return ready;
  }

  /** The Ready was persisted, its messages sent and its committed entries applied. */
  advance(ready: Ready): void {
    assert.ok(this.readyOutstanding, 'advance() without an outstanding ready()');
    this.readyOutstanding = false;
    const r = this.raft;
    if (ready.hardState !== null) {
      this.previousHard = ready.hardState;
    }
    if (ready.snapshot !== null) {
      r.log.stableSnapTo(ready.snapshot.metadata.index);
      r.log.appliedTo(ready.snapshot.metadata.index);
    }
    if (ready.entries.length > 0) {
      const last = ready.entries[ready.entries.length - 1];
      r.onStable(last.index, last.term);
    }
    if (ready.committedEntries.length > 0) {
      r.log.appliedTo(ready.committedEntries[ready.committedEntries.length - 1].index);
      leader.reduceUncommitted(r, ready.committedEntries);
    }
  }

  status(): Status {
    const r = this.raft;
    let progress: Record<number, ProgressStatus> | null = null;
    if (r.role === 'leader') {
      progress = {};
      for (const [id, pr] of r.progress) {
        progress[id] = {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          learner: pr.isLearner,
          recentActive: pr.recentActive,
          paused: pr.isPaused(),
        };
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      firstIndex: r.log.firstIndex(),
      lastIndex: r.log.lastIndex(),
      leaderId: r.lead,
      role: r.role,
      leadTransferee: r.leadTransferee,
      conf: { voters: [...r.voters], learners: [...r.learners] },
      hardState: this.hardState(),
      progress,
    };
  }

  /** The history this node's log belongs to, 0 while it has none (history.ts). */
  history(): number {
    return this.raft.history;
  }

  /** A leader this node refuses to follow: its data differs from this node's (follower.ts). */
  foreignLeader(): ForeignLeader | null {
    return this.raft.foreignLeader;
  }

  /** Whether the node is still catching up after starting with an empty log, and how far (amnesia.ts). */
  catchUp(): CatchUp | null {
    return this.raft.catchUp();
  }

  /**
   * The catch-up state as last changed, before asking whether the log (durable or not) reached its target: a target
   * a leader just set, or null after winning an election, is made durable before the entries of the same Ready.
   */
  catchUpRecorded(): CatchUp | null {
    return this.raft.catchUpRecorded();
  }

  /** Human-readable progress lines, for scenario tests and debugging. */
  describeProgress(): string[] {
    const lines: string[] = [];
    for (const [id, pr] of [...this.raft.progress].sort((a, b) => a[0] - b[0])) {
      lines.push(`${id}: ${pr.describe()}`);
    }
    return lines;
  }

  /** Term of entry i in this node's log (durable or not), undefined if compacted or absent. */
  term(i: number): number | undefined {
    return this.raft.log.term(i);
  }

  private softState(): SoftState {
    return { leaderId: this.raft.lead, role: this.raft.role };
  }

  private hardState(): HardState {
    // Built on every hasReady(): one object, the history set only when there is one (no spread of a second).
    const hard: HardState = { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
    if (this.raft.history !== 0) hard.history = this.raft.history;
    return hard;
  }
}

function softEqual(a: SoftState, b: SoftState): boolean {
  return a.leaderId === b.leaderId && a.role === b.role;
}

function hardEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit && (a.history ?? 0) === (b.history ?? 0);
}
