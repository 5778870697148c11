// A follower refuses a leader whose log ends below what the follower holds committed: the members started from
// different data (core/follower.ts), and following would answer the leader's probes with a match beyond its log.
import t from 'tap';
import { RawNode } from '../../server/quorum/core/rawnode.js';
import { FixedRand } from '../../server/quorum/core/rand.js';
import { MemoryStorage } from '../../server/quorum/core/storage.js';
import type { Message } from '../../server/quorum/core/types.js';

/** Node 2 whose log starts from a tree at zxid 5 (a restored snapshot: index 5, term 0, committed). */
function restored(): { raw: RawNode; s: MemoryStorage } {
  const s = new MemoryStorage();
  s.applySnapshot({ metadata: { index: 5, term: 0, voters: [1, 2, 3], learners: [] }, data: new Uint8Array(0) });
  s.setHardState({ term: 0, vote: 0, commit: 5 });
  return { raw: new RawNode({ id: 2, voters: [1, 2, 3], rand: new FixedRand(), preVote: false, applied: 5 }, s), s };
}

function out(raw: RawNode, s: MemoryStorage): Message[] {
  const rd = raw.ready();
  s.append(rd.entries);
  if (rd.hardState !== null) s.setHardState(rd.hardState);
  raw.advance(rd);
  return rd.messages;
}

/** Node 2 with entries 1..5 of term 1, all committed. */
function committed(): { raw: RawNode; s: MemoryStorage } {
  const s = new MemoryStorage();
  s.append([1, 2, 3, 4, 5].map((index) => ({ index, term: 1, type: 'normal' as const, data: new Uint8Array([index]) })));
  s.setHardState({ term: 1, vote: 0, commit: 5 });
  return { raw: new RawNode({ id: 2, voters: [1, 2, 3], rand: new FixedRand(), preVote: false, applied: 5 }, s), s };
}

t.test("a leader whose log ends below this node's commit is refused, its heartbeats too, until an append reaches the commit", async (t) => {
  const { raw, s } = committed();
  raw.step({ type: 'app', from: 3, to: 2, term: 2, index: 5, logTerm: 1, commit: 3, leaderLast: 3, entries: [] });
  t.same(out(raw, s).filter((m) => m.to === 3), [], 'no answer to its append');
  t.same(raw.foreignLeader(), { leader: 3, term: 2, leaderLast: 3, committed: 5, certain: false });
  t.equal(raw.status().leaderId, 0, 'and it is not taken as leader');
  raw.step({ type: 'heartbeat', from: 3, to: 2, term: 2, commit: 3, ctx: new Uint8Array(0) });
  t.same(out(raw, s).filter((m) => m.to === 3), [], 'nor to its heartbeat');
  t.equal(raw.status().leaderId, 0);
  // Where messages outlive a restart (the simulator), that was a late copy: a fresh append is followed.
  raw.step({ type: 'app', from: 3, to: 2, term: 2, index: 5, logTerm: 1, commit: 6, leaderLast: 6, entries: [{ index: 6, term: 2, type: 'noop', data: new Uint8Array(0) }] });
  const answer = out(raw, s).find((m) => m.type === 'appResp') as Extract<Message, { type: 'appResp' }> | undefined;
  t.equal(answer?.reject, false, 'an append whose log reaches the commit is followed');
  t.equal(answer?.index, 6);
  t.equal(raw.foreignLeader(), null, 'and the refusal is over');
});

t.test('a log started from a tree refuses a leader that sends below its start, for the whole term', async (t) => {
  const { raw, s } = restored();
  raw.step({ type: 'app', from: 3, to: 2, term: 2, index: 0, logTerm: 0, commit: 1, leaderLast: 6, entries: [] });
  t.same(out(raw, s).filter((m) => m.to === 3), [], 'no answer, though its log reaches past 5');
  t.match(raw.foreignLeader(), { leader: 3, term: 2, certain: true });
  raw.step({ type: 'app', from: 1, to: 2, term: 3, index: 5, logTerm: 0, commit: 5, leaderLast: 6, entries: [{ index: 6, term: 3, type: 'noop', data: new Uint8Array(0) }] });
  t.equal((out(raw, s).find((m) => m.type === 'appResp') as Extract<Message, { type: 'appResp' }> | undefined)?.index, 6, 'a leader sharing the start (from index 5, term 0) is followed');
  t.equal(raw.foreignLeader(), null);
});

t.test('a leader whose log has another term at a committed index is refused for its whole term', async (t) => {
  const { raw, s } = restored();
  // Its log reaches past 5, but its entry 5 is of term 2 where this node's (the restored tree) is of term 0.
  raw.step({ type: 'app', from: 3, to: 2, term: 2, index: 5, logTerm: 2, commit: 6, leaderLast: 9, entries: [] });
  t.same(out(raw, s).filter((m) => m.to === 3), [], 'no answer');
  t.match(raw.foreignLeader(), { leader: 3, term: 2, committed: 5, certain: true });
  raw.step({ type: 'app', from: 3, to: 2, term: 2, index: 9, logTerm: 2, commit: 9, leaderLast: 9, entries: [] });
  t.same(out(raw, s).filter((m) => m.to === 3), [], 'nor to a later append of the same term, however long its log');
  t.equal(raw.status().leaderId, 0);
});

t.test('a late copy of an append from the leader it follows is not taken for a foreign log', async (t) => {
  const { raw, s } = restored();
  raw.step({ type: 'app', from: 1, to: 2, term: 3, index: 5, logTerm: 0, commit: 7, leaderLast: 7, entries: [{ index: 6, term: 3, type: 'noop', data: new Uint8Array(0) }, { index: 7, term: 3, type: 'normal', data: new Uint8Array([1]) }] });
  out(raw, s);
  t.equal(raw.status().commit, 7);
  raw.step({ type: 'app', from: 1, to: 2, term: 3, index: 5, logTerm: 0, commit: 5, leaderLast: 6, entries: [{ index: 6, term: 3, type: 'noop', data: new Uint8Array(0) }] });
  t.equal(out(raw, s).find((m) => m.type === 'appResp')?.to, 1, 'answered');
  t.equal(raw.foreignLeader(), null);
  t.equal(raw.status().leaderId, 1);
});

t.test('an append without leaderLast (a leader of an earlier release) is not refused on that ground', async (t) => {
  const { raw, s } = restored();
  raw.step({ type: 'app', from: 3, to: 2, term: 2, index: 5, logTerm: 0, commit: 5, entries: [] });
  t.equal(out(raw, s).find((m) => m.type === 'appResp')?.to, 3, 'answered as before');
  t.equal(raw.foreignLeader(), null);
});
