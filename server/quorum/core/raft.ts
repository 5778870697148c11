// The Raft state machine: terms, roles and elections (with PreVote and CheckQuorum). Leader-only behaviour lives in
// leader.ts, the follower side of replication in follower.ts.
//
// zxid: the ensemble uses the Raft log index as the zxid of the transaction an entry carries. It
// is strictly increasing along the one committed history, exact as a JS number up to 2^53, and
// noop/conf entries also consume an index, so zxids of client transactions may have gaps.

import assert from 'node:assert/strict';
import type { Config } from './config.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { ReadOnlyQueue } from './readonly.js';
import type { Storage } from './storage.js';
import type {
  Message,
  ReadState,
  Role,
  VoteMessage,
  VoteResponseMessage,
} from './types.js';
import { NONE } from './types.js';
import * as leader from './leader.js';
import * as follower from './follower.js';
import { Amnesia, type CatchUp } from './amnesia.js';
import { bound, drawHistory, otherHistory } from './history.js';

type CampaignKind = 'preElection' | 'election' | 'transfer';

export interface ForeignLeader {
  leader: number;
  term: number;
  leaderLast: number;
  committed: number;
  /** Its log disagrees with a committed entry here (not only shorter): refused for the rest of its term. */
  certain: boolean;
  /** Refused because its log belongs to another history (history.ts): the leader's and this node's. */
  histories?: { leader: number; ours: number };
}
type PollResult = 'won' | 'lost' | 'pending';

/** Messages are built without `from`; send() stamps it so no caller can forget. */
type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'from'> : never) : never;

export interface PendingRead {
  ctx: Uint8Array;
  from: number;
}

export class Raft {
  readonly id: number;
  readonly config: Config;
  readonly log: RaftLog;
  term = 0;
  vote = NONE;
  lead = NONE;
  role: Role = 'follower';
  voters: number[] = [];
  learners: number[] = [];
  readonly progress = new Map<number, Progress>();
  readonly votes = new Map<number, boolean>();
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  leadTransferee = NONE;
  uncommittedBytes = 0;
  readonly readOnly: ReadOnlyQueue;
  /** ReadIndex requests that arrived before the leader committed an entry of its own term. */
  pendingReads: PendingRead[] = [];
  /** Careful votes while catching up after starting with an empty log (amnesia.ts). */
  readonly amnesia: Amnesia;
  /** A leader this node refused to follow: its data differs from what this node holds committed (follower.ts). */
  foreignLeader: ForeignLeader | null = null;
  /** The leader this node last followed, and in which term: its late appends are not taken for a foreign log. */
  followed = { leader: NONE, term: 0 };
  /** The history this node's log belongs to, 0 while it has none (history.ts). */
  history = 0;

  constructor(config: Config, storage: Storage) {
    this.id = config.id;
    this.config = config;
    this.readOnly = new ReadOnlyQueue(config.maxPendingReadIndex);
    const { hardState, confState } = storage.initialState();
    const fresh = confState.voters.length === 0;
    this.voters = [...(fresh ? config.voters : confState.voters)].sort((a, b) => a - b);
    this.learners = [...(fresh ? config.learners : confState.learners)].sort((a, b) => a - b);
    assert.ok(this.voters.length > 0, 'a configuration needs at least one voter');
    assert.ok(this.isMember(this.id), `node ${this.id} is not in its own configuration`);
    this.log = new RaftLog(storage, config.applied);
    this.becomeFollower(hardState.term, NONE);
    this.vote = hardState.vote;
    this.history = hardState.history ?? 0;
    assert.ok(hardState.commit >= this.log.committed || hardState.commit === 0, 'commit below snapshot');
    this.log.commitTo(hardState.commit);
    assert.ok(this.log.applied <= this.log.committed, 'applied beyond commit at restart');
    this.amnesia = new Amnesia(this.log.lastIndex() === 0, config.catchingUp);
  }

  isMember(id: number): boolean {
    return this.voters.includes(id) || this.learners.includes(id);
  }

  promotable(): boolean {
    return this.voters.includes(this.id);
  }

  quorum(): number {
    return Math.floor(this.voters.length / 2) + 1;
  }

  send(message: Outgoing): void {
    assert.ok(message.to !== this.id, 'a node never messages itself');
    assert.ok(message.term > 0 || message.type === 'appResp', 'messages carry a term');
    this.msgs.push({ ...message, from: this.id } as Message);
  }

  // ---- role transitions --------------------------------------------------------------------

  private reset(term: number): void {
    assert.ok(term >= this.term, `term must never decrease (${this.term} -> ${term})`);
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.rand.intn(this.config.electionTicks);
    this.leadTransferee = NONE;
    this.votes.clear();
    this.uncommittedBytes = 0;
    this.readOnly.reset();
    this.pendingReads = [];
    this.resetProgress();
  }

  resetProgress(): void {
    this.progress.clear();
    const next = this.log.lastIndex() + 1;
    const { maxInflightMsgs, maxInflightBytes } = this.config;
    for (const id of this.voters) {
      this.progress.set(id, new Progress(next, false, maxInflightMsgs, maxInflightBytes));
    }
    for (const id of this.learners) {
      this.progress.set(id, new Progress(next, true, maxInflightMsgs, maxInflightBytes));
    }
    const self = this.progress.get(this.id);
    assert.ok(self !== undefined, 'own progress exists');
    // Only entries reported durable through advance() count towards our own match.
    self.match = this.log.stableLastIndex();
  }

  becomeFollower(term: number, lead: number): void {
    this.reset(term);
    this.lead = lead;
    this.role = this.promotable() ? 'follower' : 'learner';
  }

  private becomePreCandidate(): void {
    assert.ok(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // Neither term nor vote change: a pre-election must not disturb anyone if it loses.
    this.votes.clear();
    this.lead = NONE;
    this.role = 'precandidate';
  }

  private becomeCandidate(): void {
    assert.ok(this.role !== 'leader', 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert.ok(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    this.amnesia.end();
    // A leader with an empty log founds a history (history.ts), durable with this Ready before any message naming it
    // leaves (the engine holds a leader's early sends then).
    if (this.log.lastIndex() === 0) this.history = drawHistory(this.config.rand);
    const self = this.progress.get(this.id);
    assert.ok(self !== undefined, 'own progress exists');
    self.becomeReplicate();
    self.recentActive = true;
    // A noop of the new term lets the leader commit (and learn the commit point of) earlier terms.
    this.log.append([{ index: this.log.lastIndex() + 1, term: this.term, type: 'noop', data: new Uint8Array(0) }]);
  }

  // ---- elections ---------------------------------------------------------------------------

  hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable() || !this.amnesia.mayCampaign(this.log.lastIndex())) {
      return;
    }
    if (transfer) {
      this.campaign('transfer');
    } else {
      this.campaign(this.config.preVote ? 'preElection' : 'election');
    }
  }

  private campaign(kind: CampaignKind): void {
    let voteTerm: number;
    let type: VoteMessage['type'];
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
      type = 'preVote';
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
      type = 'vote';
    }
    if (this.poll(this.id, true) === 'won') {
      this.electionWon(kind === 'preElection');
      return;
    }
    const index = this.log.lastIndex();
    const logTerm = this.log.lastTerm();
    for (const to of this.voters) {
      if (to !== this.id) {
        this.send({ type, to, term: voteTerm, index, logTerm, transfer: kind === 'transfer', history: this.history });
      }
    }
  }

  private electionWon(preElection: boolean): void {
    if (preElection) {
      this.campaign('election');
    } else {
      this.becomeLeader();
      leader.bcastAppend(this);
    }
  }

  private poll(from: number, granted: boolean): PollResult {
    if (!this.votes.has(from)) {
      this.votes.set(from, granted);
    }
    let yes = 0;
    let no = 0;
    for (const voter of this.voters) {
      const vote = this.votes.get(voter);
      if (vote === true) {
        yes++;
      } else if (vote === false) {
        no++;
      }
    }
    if (yes >= this.quorum()) {
      return 'won';
    }
    return no > this.voters.length - this.quorum() ? 'lost' : 'pending';
  }

  /** Inside a CheckQuorum lease a follower ignores candidates: the leader is known to be alive. */
  private inLease(): boolean {
    return this.config.checkQuorum && this.lead !== NONE && this.electionElapsed < this.config.electionTicks;
  }

  private handleVoteRequest(m: VoteMessage): void {
    const responseType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === 'preVote' && m.term > this.term);
    const grants =
      canVote &&
      !(this.boundToHistory() && otherHistory(this.history, m.history)) &&
      this.log.isUpToDate(m.index, m.logTerm) &&
      this.amnesia.grants(m.index, m.logTerm, this.log.lastIndex());
    if (grants) {
      // A pre-vote grant answers in the term the candidate would use, so it can count it.
      this.send({ type: responseType, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else if (this.term > 0) {
      this.send({ type: responseType, to: m.from, term: this.term, reject: true });
    }
    // At term 0 (amnesia.ts turning down a pre-vote) there is no term to reject in: silence, as a lost message.
  }

  /** Whether this node holds something committed in its history, and so refuses another (history.ts). */
  boundToHistory(): boolean {
    return bound(this.history, this.log.committed);
  }

  /** Whether this node is still catching up after starting with an empty log, and how far (see amnesia.ts). */
  catchUp(): CatchUp | null {
    return this.amnesia.current(this.log.lastIndex());
  }

  /** The catch-up state as last changed, to be made durable before the entries (amnesia.ts). */
  catchUpRecorded(): CatchUp | null {
    return this.amnesia.recorded();
  }

  // ---- input -------------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') {
      leader.tickLeader(this);
      return;
    }
    this.electionElapsed++;
    if (this.lead !== NONE && this.electionElapsed >= this.config.electionTicks) {
      // Silent for an election timeout, the leader may be gone: stop naming it so the node reports that it
      // knows none. A learner never campaigns, so without this it would name a dead leader forever.
      this.lead = NONE;
    }
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  step(m: Message): void {
    assert.ok(m.to === this.id, `message for ${m.to} delivered to ${this.id}`);
    if (!this.isMember(m.from)) {
      return; // not part of our configuration: ignore rather than let it disturb terms
    }
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) {
        return;
      }
    } else if (m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        leader.stepLeader(this, m);
        return;
      case 'candidate':
      case 'precandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
      case 'learner':
        follower.stepFollower(this, m);
        return;
    }
  }

  /** Returns false when the message must be dropped. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'vote' || m.type === 'preVote') {
      if (!m.transfer && this.inLease()) {
        return false;
      }
    }
    if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
      return true; // pre-votes never move terms; the winner bumps its own term when it campaigns
    }
    const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
      // A stale leader (e.g. healed from a partition) must learn our term to step down; without
      // this it would never hear a higher term, since PreVote/CheckQuorum keep us from bumping it.
      this.send({ type: 'appResp', to: m.from, term: this.term, index: 0, reject: false, rejectHint: 0, logTerm: 0 });
    } else if (m.type === 'preVote') {
      this.send({ type: 'preVoteResp', to: m.from, term: this.term, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'app':
      case 'heartbeat':
      case 'snap':
        this.becomeFollower(m.term, m.from);
        if (follower.acceptLeader(this, m)) follower.fromLeader(this, m);
        return;
      case 'voteResp':
      case 'preVoteResp':
        this.handleVoteResponse(m);
        return;
      default:
        return;
    }
  }

  private handleVoteResponse(m: VoteResponseMessage): void {
    const expected = this.role === 'precandidate' ? 'preVoteResp' : 'voteResp';
    if (m.type !== expected) {
      return;
    }
    const result = this.poll(m.from, !m.reject);
    if (result === 'won') {
      this.electionWon(this.role === 'precandidate');
    } else if (result === 'lost') {
      this.becomeFollower(this.term, NONE);
    }
  }

  // ---- persistence feedback ----------------------------------------------------------------

  /** The application made entries up to (index, term) durable. */
  onStable(index: number, term: number): void {
    this.log.stableTo(index, term);
    if (this.role === 'leader') {
      leader.selfAcknowledge(this);
    }
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }
}
