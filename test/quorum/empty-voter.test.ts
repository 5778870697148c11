// The consensus core's care for a voter that starts with an empty log (a new member, or one whose disk was lost),
// core/amnesia.ts: before a leader reached it, it votes only for a candidate with an empty log; once one did, only for
// a candidate holding the log that leader had then, and it does not campaign; caught up, it is a voter as any other.
// And the leader's side: a follower whose log ends below what it acknowledged is probed again from what it has.

import t from 'tap';
import { RawNode } from '../../server/quorum/core/rawnode.js';
import { FixedRand } from '../../server/quorum/core/rand.js';
import { MemoryStorage } from '../../server/quorum/core/storage.js';
import type { Entry, Message, Ready } from '../../server/quorum/core/types.js';
import type { CatchUp } from '../../server/quorum/core/amnesia.js';

const entry = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });

function node(id: number, storage: MemoryStorage, preVote = false, catchingUp: CatchUp | null = null): RawNode {
  return new RawNode({ id, voters: [1, 2, 3], rand: new FixedRand(), preVote, catchingUp }, storage);
}

/** Persists a Ready and returns its messages. */
function handle(raw: RawNode, storage: MemoryStorage): Message[] {
  const ready: Ready = raw.ready();
  if (ready.snapshot !== null) storage.applySnapshot(ready.snapshot);
  storage.append(ready.entries);
  if (ready.hardState !== null) storage.setHardState(ready.hardState);
  raw.advance(ready);
  return ready.messages;
}

/** A leadership transfer's vote (`transfer`) is heard inside the lease of a leader the voter knows. */
function voteAnswer(raw: RawNode, storage: MemoryStorage, m: Omit<Extract<Message, { type: 'vote' | 'preVote' }>, 'to' | 'transfer'>, transfer = false): string {
  raw.step({ ...m, to: 2, transfer } as Message);
  const out = handle(raw, storage).filter((x) => x.type === 'voteResp' || x.type === 'preVoteResp');
  if (out.length === 0) return 'silent';
  const r = out[0] as Extract<Message, { type: "voteResp" | "preVoteResp" }>;
  return r.reject ? `rejected at term ${r.term}` : `granted at term ${r.term}`;
}

/** Campaigns at term 1 and takes `voter`'s vote: a leader of three voters. */
function win(raw: RawNode, storage: MemoryStorage, voter: number): void {
  raw.campaign();
  handle(raw, storage);
  raw.step({ type: 'voteResp', from: voter, to: raw.status().id, term: 1, reject: false });
  handle(raw, storage);
}

/** Node 2 with the entries 1..n of term 1 in its log. */
function withLog(n: number): { raw: RawNode; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  storage.append(Array.from({ length: n }, (_, i) => entry(i + 1, 1)));
  storage.setHardState({ term: 1, vote: 0, commit: 0 });
  return { raw: node(2, storage), storage };
}

t.test('before a leader reached it, an empty voter refuses a candidate with entries and grants one with none (the first election)', async (t) => {
  const a = new MemoryStorage();
  const empty = node(2, a);
  t.equal(empty.catchUp(), 'unheard');
  t.equal(voteAnswer(empty, a, { type: 'vote', from: 3, term: 2, index: 5, logTerm: 1 }), 'rejected at term 2', 'a candidate with 5 entries is refused');
  t.equal(empty.status().vote, 0, 'and nothing is recorded as its vote');
  const b = new MemoryStorage();
  const fresh = node(2, b);
  t.equal(voteAnswer(fresh, b, { type: 'vote', from: 3, term: 1, index: 0, logTerm: 0 }), 'granted at term 1', 'a candidate with an empty log gets the vote');
});

t.test('a pre-vote to an empty voter at term 0 goes unanswered rather than answered with no term', async (t) => {
  const s = new MemoryStorage();
  const raw = node(2, s, true);
  t.equal(voteAnswer(raw, s, { type: 'preVote', from: 3, term: 2, index: 4, logTerm: 1 }), 'silent');
  t.equal(voteAnswer(raw, s, { type: 'preVote', from: 1, term: 1, index: 0, logTerm: 0 }), 'granted at term 1', 'an empty candidate is pre-voted');
});

/** Node 2, started empty, reached by leader 1 of term 3 (log 1..6, 4 committed), holding 1..3 of it. */
function reached(last: number | null = 6): { raw: RawNode; s: MemoryStorage } {
  const leaderLast = last ?? undefined;
  const s = new MemoryStorage();
  const raw = node(2, s);
  raw.step({ type: 'app', from: 1, to: 2, term: 3, index: 6, logTerm: 3, commit: 4, leaderLast, entries: [] });
  const reply = handle(raw, s).find((m) => m.type === 'appResp') as Extract<Message, { type: 'appResp' }>;
  if (!reply.reject) throw new Error('the probe should not match an empty log');
  raw.step({ type: 'app', from: 1, to: 2, term: 3, index: 0, logTerm: 0, commit: 4, leaderLast, entries: [entry(1, 1), entry(2, 1), entry(3, 3)] });
  handle(raw, s);
  return { raw, s };
}

t.test("reached by a leader, it votes only for a candidate holding that leader's log as it was then", async (t) => {
  const { raw, s } = reached();
  t.same(raw.catchUp(), { index: 6, term: 3 }, "the first append fixed the target: the leader's last index 6, in term 3");
  // Votes of a leadership transfer (heard inside the lease of the leader it knows) reach the vote rule itself.
  t.equal(voteAnswer(raw, s, { type: 'vote', from: 3, term: 4, index: 0, logTerm: 0 }, true), 'rejected at term 4', 'an empty candidate is refused: the ensemble has a history');
  t.equal(voteAnswer(raw, s, { type: 'vote', from: 3, term: 5, index: 3, logTerm: 3 }, true), 'rejected at term 5', 'a candidate as long as its own partial log is refused');
  t.equal(voteAnswer(raw, s, { type: 'vote', from: 3, term: 6, index: 5, logTerm: 3 }, true), 'rejected at term 6', "one holding the commit index but not the leader's last is refused (a new leader's commit index lags)");
  t.equal(voteAnswer(raw, s, { type: 'vote', from: 3, term: 7, index: 6, logTerm: 3 }, true), 'granted at term 7', 'one that holds index 6 of term 3 gets the vote');
  const other = reached();
  t.equal(voteAnswer(other.raw, other.s, { type: 'vote', from: 3, term: 4, index: 3, logTerm: 4 }, true), 'granted at term 4', 'as does one whose log ends in a later term');
  const old = reached(null);
  t.same(old.raw.catchUp(), { index: 4, term: 3 }, "a leader of an earlier release sends no last index: its commit index is the target");
});

t.test('reached by heartbeats alone (the leader sends it a snapshot, not appends), it votes for a candidate holding the leader\'s log', async (t) => {
  const s = new MemoryStorage();
  const raw = node(2, s);
  raw.step({ type: 'heartbeat', from: 1, to: 2, term: 3, commit: 0, ctx: new Uint8Array(0), leaderLast: 9 });
  handle(raw, s);
  t.same(raw.catchUp(), { index: 9, term: 3 }, "the heartbeat fixed the target: the leader's last index 9, in term 3");
  // The leader dies mid-transfer: the member that holds its whole log must be electable with this one's vote.
  t.equal(voteAnswer(raw, s, { type: 'vote', from: 3, term: 4, index: 9, logTerm: 3 }, true), 'granted at term 4', 'the member holding the log gets the vote');
  const b = new MemoryStorage();
  const other = node(2, b);
  other.step({ type: 'heartbeat', from: 1, to: 2, term: 3, commit: 0, ctx: new Uint8Array(0), leaderLast: 9 });
  handle(other, b);
  t.equal(voteAnswer(other, b, { type: 'vote', from: 3, term: 4, index: 0, logTerm: 0 }, true), 'rejected at term 4', 'an empty candidate no longer does');
  const c = new MemoryStorage();
  const old = node(2, c);
  old.step({ type: 'heartbeat', from: 1, to: 2, term: 3, commit: 0, ctx: new Uint8Array(0) });
  handle(old, c);
  t.equal(old.catchUp(), 'unheard', "a leader of an earlier release sends no last index on heartbeats: still unheard");
});

t.test('reached by a leader and not caught up, it does not campaign', async (t) => {
  const { raw, s } = reached();
  raw.campaign();
  const out = handle(raw, s);
  t.equal(raw.status().role, 'follower', 'still a follower');
  t.same(out.filter((m) => m.type === 'vote' || m.type === 'preVote'), [], 'no vote asked');
  const fresh = new MemoryStorage();
  const unheard = node(2, fresh);
  unheard.campaign();
  t.equal(unheard.status().role, 'candidate', 'before any leader reached it, it may (an empty log wins only among empty ones)');
});

t.test('it is caught up once its log reaches that commit index, and votes and campaigns as any member', async (t) => {
  const { raw, s } = reached();
  raw.step({ type: 'app', from: 1, to: 2, term: 3, index: 3, logTerm: 3, commit: 4, leaderLast: 8, entries: [entry(4, 3), entry(5, 3)] });
  handle(raw, s);
  t.same(raw.catchUp(), { index: 6, term: 3 }, 'at index 5 it still catches up');
  raw.step({ type: 'app', from: 1, to: 2, term: 3, index: 5, logTerm: 3, commit: 6, leaderLast: 8, entries: [entry(6, 3)] });
  handle(raw, s);
  t.equal(raw.catchUp(), null, "at index 6 (the leader's last when it first reached it) it is caught up, though the leader's log has grown");
  t.equal(voteAnswer(raw, s, { type: 'vote', from: 3, term: 5, index: 6, logTerm: 3 }, true), 'granted at term 5', 'and votes as any member');
});

t.test('a leader reached by a first append with commit 0 is not caught up by an empty log', async (t) => {
  const s = new MemoryStorage();
  const raw = node(2, s);
  raw.step({ type: 'app', from: 1, to: 2, term: 1, index: 0, logTerm: 0, commit: 0, entries: [] });
  handle(raw, s);
  t.same(raw.catchUp(), { index: 0, term: 1 }, 'nothing committed, but a leader exists: it holds at least its noop');
  raw.step({ type: 'app', from: 1, to: 2, term: 1, index: 0, logTerm: 0, commit: 0, entries: [entry(1, 1)] });
  handle(raw, s);
  t.equal(raw.catchUp(), null, 'with that entry it is caught up');
});

t.test('a voter that starts with entries votes normally, as Raft has it', async (t) => {
  const { raw, storage } = withLog(2);
  t.equal(raw.catchUp(), null);
  t.equal(voteAnswer(raw, storage, { type: 'vote', from: 3, term: 2, index: 2, logTerm: 1 }), 'granted at term 2');
});

t.test('one that restarted before catching up resumes where the host says it was', async (t) => {
  const storage = new MemoryStorage();
  storage.append([entry(1, 1), entry(2, 1)]);
  storage.setHardState({ term: 1, vote: 0, commit: 0 });
  const raw = node(2, storage, false, { index: 3, term: 3 });
  t.same(raw.catchUp(), { index: 3, term: 3 });
  t.equal(voteAnswer(raw, storage, { type: 'vote', from: 3, term: 2, index: 2, logTerm: 1 }), 'rejected at term 2', 'a candidate as long as its log is refused');
  raw.step({ type: 'app', from: 1, to: 2, term: 3, index: 2, logTerm: 1, commit: 3, entries: [entry(3, 3)] });
  handle(raw, storage);
  t.equal(raw.catchUp(), null, 'until it holds index 3');
  const again = withLog(2);
  const unheard = node(2, again.storage, false, 'unheard');
  t.equal(voteAnswer(unheard, again.storage, { type: 'vote', from: 3, term: 2, index: 2, logTerm: 1 }), 'rejected at term 2', 'restarted unheard, its entries do not make it vote for a log like its own');
});

t.test('an empty node that wins an election (all logs empty) is caught up, and votes normally after stepping down', async (t) => {
  const s = new MemoryStorage();
  const raw = node(2, s);
  win(raw, s, 1);
  t.equal(raw.status().role, 'leader');
  t.equal(raw.catchUp(), null);
  raw.step({ type: 'app', from: 3, to: 2, term: 2, index: 1, logTerm: 1, commit: 1, entries: [] });
  handle(raw, s);
  t.equal(voteAnswer(raw, s, { type: 'vote', from: 1, term: 3, index: 2, logTerm: 2 }, true), 'granted at term 3');
});

/** Node 1 leading three voters, with entries 1..4 (its noop and three more) that node 2 has acknowledged. */
function leaderAckedBy2(): { raw: RawNode; s: MemoryStorage } {
  const s = new MemoryStorage();
  const raw = node(1, s);
  win(raw, s, 2);
  raw.propose([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]);
  handle(raw, s);
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 4, reject: false, rejectHint: 0, logTerm: 0 });
  handle(raw, s);
  return { raw, s };
}

t.test("a leader probes again from a follower's last index when the follower no longer holds what it acknowledged", async (t) => {
  const { raw, s } = leaderAckedBy2();
  t.equal(raw.status().progress?.[2]?.match, 4, 'node 2 acknowledged 4');
  // Node 2's disk is replaced: it rejects the next append above its old match, its log ending at 0.
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 4, reject: true, rejectHint: 0, logTerm: 0 });
  const out = handle(raw, s).filter((m) => m.type === 'app' && m.to === 2) as Extract<Message, { type: 'app' }>[];
  t.same(raw.status().progress?.[2] && { match: raw.status().progress?.[2]?.match, next: raw.status().progress?.[2]?.next }, { match: 0, next: 1 }, 'its match goes back to what it has');
  t.equal(out[0]?.index, 0, 'and the next append starts from the beginning of the log');
  t.same(out[0]?.entries.map((e) => e.index), [1, 2, 3, 4]);
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 4, reject: false, rejectHint: 0, logTerm: 0 });
  handle(raw, s);
  t.equal(raw.status().progress?.[2]?.match, 4, 'it acknowledges them again');
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 2, reject: true, rejectHint: 1, logTerm: 1 });
  handle(raw, s);
  t.equal(raw.status().progress?.[2]?.match, 4, 'a late rejection of an append below the match is stale and changes nothing');
});

t.test("with no append to answer, a heartbeat's answer tells the leader the follower's log ends below its match", async (t) => {
  const { raw, s } = leaderAckedBy2();
  t.equal(raw.status().progress?.[2]?.match, 4, 'node 2 acknowledged 4, and the ensemble then takes no writes');
  raw.step({ type: 'heartbeatResp', from: 2, to: 1, term: 1, ctx: new Uint8Array(0), lastIndex: 4 });
  t.same(handle(raw, s).filter((m) => m.to === 2), [], 'a follower at its match gets nothing more');
  // Node 2's disk is replaced; the leader hears only its heartbeat answers.
  raw.step({ type: 'heartbeatResp', from: 2, to: 1, term: 1, ctx: new Uint8Array(0), lastIndex: 0 });
  const out = handle(raw, s).filter((m) => m.type === 'app' && m.to === 2) as Extract<Message, { type: 'app' }>[];
  t.equal(raw.status().progress?.[2]?.match, 0, 'its match goes back to what it has');
  t.equal(out[0]?.index, 0, 'and an append from the beginning of the log goes out at once');
  t.same(out[0]?.entries.map((e) => e.index), [1, 2, 3, 4]);
  raw.step({ type: 'heartbeatResp', from: 2, to: 1, term: 1, ctx: new Uint8Array(0) });
  t.equal(raw.status().progress?.[2]?.match, 0, 'an answer of an earlier release (no lastIndex) changes nothing');
});

t.test('a follower holding entries it never acknowledged, with nothing in flight, is sent one append at its match to compare', async (t) => {
  const s = new MemoryStorage();
  const raw = node(1, s);
  win(raw, s, 2);
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 1, reject: false, rejectHint: 0, logTerm: 0 });
  handle(raw, s);
  t.equal(raw.status().progress?.[2]?.match, 1);
  // Node 2 holds 40 entries this leader never sent (a snapshot restored into it alone).
  raw.step({ type: 'heartbeatResp', from: 2, to: 1, term: 1, ctx: new Uint8Array(0), lastIndex: 40 });
  const out = handle(raw, s).filter((m) => m.type === 'app' && m.to === 2) as Extract<Message, { type: 'app' }>[];
  t.equal(out.length, 1, 'one append');
  t.match(out[0], { index: 1, logTerm: 1, entries: [] }, 'at its match: the follower compares it with what it holds committed');
  raw.step({ type: 'heartbeatResp', from: 2, to: 1, term: 1, ctx: new Uint8Array(0), lastIndex: 40 });
  t.same(handle(raw, s).filter((m) => m.to === 2), [], 'once per match, not at every heartbeat');
});

t.test("a full window is freed at a heartbeat round's answer only when the follower took nothing over the round; a burst of answers sends at most one append", async (t) => {
  const s = new MemoryStorage();
  // One entry per append and two appends in flight: the window fills at once.
  const raw = new RawNode({ id: 1, voters: [1, 2, 3], rand: new FixedRand(), maxInflightMsgs: 2, maxSizePerMsg: 1, preVote: false }, s);
  win(raw, s, 2);
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 1, reject: false, rejectHint: 0, logTerm: 0 });
  handle(raw, s);
  raw.propose([2, 3, 4, 5, 6, 7, 8].map((i) => new Uint8Array([i])));
  const appendsTo2 = () => (handle(raw, s).filter((m) => m.type === 'app' && m.to === 2) as Extract<Message, { type: 'app' }>[]).map((m) => m.entries.map((e) => e.index).join());
  t.same(appendsTo2(), ['2', '3'], 'two appends fill the window');
  const answer = () => raw.step({ type: 'heartbeatResp', from: 2, to: 1, term: 1, ctx: new Uint8Array(0), lastIndex: raw.status().progress?.[2]?.match });
  /** A heartbeat round (one tick at heartbeatTicks 1), then `n` answers from node 2. */
  const round = (n = 1) => {
    raw.tick();
    handle(raw, s);
    for (let i = 0; i < n; i++) answer();
  };
  round();
  t.same(appendsTo2(), [], "the first round's answer only notes where the follower stands");
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 2, reject: false, rejectHint: 0, logTerm: 0 });
  t.same(appendsTo2(), ['4'], 'an ack makes room for one more');
  round();
  t.same(appendsTo2(), [], 'a follower that took an append over the round is only slow: nothing more is pushed at it');
  round();
  t.same(appendsTo2(), ['5'], 'one that took nothing over a round may have lost one: room is made and the next goes out');
  round(500);
  t.same(appendsTo2(), ['6'], "500 answers at once (the heartbeats of a pause) send one append, not 500");
  for (let i = 0; i < 20; i++) answer();
  t.same(appendsTo2(), [], 'and answers with no round since send none');
});
