// Two members that started with empty logs (two lost disks, or one lost disk and a member down since the first
// start) form a majority of three and start a history of their own. The member that kept the old history must refuse
// it when it comes back: the new history's terms start from 0 again, so its (index, term) pairs can equal the old
// ones, and Raft's log matching would take different entries for the same.
import t from 'tap';
import { RawNode } from '../../server/quorum/core/rawnode.js';
import { SeededRand } from '../../server/quorum/core/rand.js';
import { MemoryStorage } from '../../server/quorum/core/storage.js';
import type { Message, Ready } from '../../server/quorum/core/types.js';

interface Member {
  raw: RawNode;
  s: MemoryStorage;
  up: boolean;
}

let starts = 0;

/** Each start draws from its own stream, as each process does. */
function member(id: number, s = new MemoryStorage()): Member {
  const rand = new SeededRand(1000 * id + ++starts);
  return { raw: new RawNode({ id, voters: [1, 2, 3], rand, preVote: true, checkQuorum: true }, s), s, up: true };
}

/** Persists each up member's Ready and delivers its messages to up members, until nothing is left to do. */
function settle(ms: Map<number, Member>): void {
  for (let round = 0; round < 200; round++) {
    const queue: Message[] = [];
    for (const m of ms.values()) {
      if (!m.up || !m.raw.hasReady()) continue;
      const rd: Ready = m.raw.ready();
      if (rd.snapshot !== null) m.s.applySnapshot(rd.snapshot);
      m.s.append(rd.entries);
      if (rd.hardState !== null) m.s.setHardState(rd.hardState);
      m.raw.advance(rd);
      queue.push(...rd.messages);
    }
    if (queue.length === 0) return;
    for (const msg of queue) {
      const to = ms.get(msg.to);
      if (to?.up) to.raw.step(msg);
    }
  }
  throw new Error('did not settle');
}

const text = (d: Uint8Array): string => Buffer.from(d).toString();
const datas = (m: Member): string[] => m.s.entries(m.s.firstIndex(), m.s.lastIndex() + 1, Infinity).filter((e) => e.type === 'normal').map((e) => text(e.data));

t.test('a member holding the old history refuses a leader of a history started over by two empty members', async (t) => {
  const ms = new Map<number, Member>([[1, member(1)], [2, member(2)], [3, member(3)]]);
  (ms.get(3) as Member).up = false; // down since the first start: it never got anything
  ms.get(1)?.raw.campaign();
  settle(ms);
  t.equal(ms.get(1)?.raw.status().role, 'leader');
  ms.get(1)?.raw.propose([Buffer.from('a'), Buffer.from('b')]);
  settle(ms);
  const old = ms.get(1) as Member;
  t.same(datas(old), ['a', 'b']);
  t.equal(old.raw.status().commit, 3, 'a and b committed on 1 and 2');

  // 1 goes down; 2 loses its disk; 2 and 3, both empty, elect one of them and write a history of their own.
  old.up = false;
  ms.set(2, member(2));
  (ms.get(3) as Member).up = true;
  ms.get(3)?.raw.campaign();
  settle(ms);
  const fresh = ms.get(3) as Member;
  t.equal(fresh.raw.status().role, 'leader', 'the two empty members elect one of them');
  fresh.raw.propose([Buffer.from('x'), Buffer.from('y'), Buffer.from('z')]);
  settle(ms);
  t.same(datas(fresh), ['x', 'y', 'z']);

  // 1 comes back with its disk, as it was.
  ms.set(1, { ...member(1, old.s), up: true });
  for (let i = 0; i < 30; i++) {
    for (const m of ms.values()) m.raw.tick();
    settle(ms);
  }
  const back = ms.get(1) as Member;
  t.same(datas(back), ['a', 'b'], 'the old history is not mixed with the new one');
  t.equal(back.raw.status().leaderId, 0, 'the leader of the other history is not followed');
  t.ok(back.raw.foreignLeader()?.certain, 'refused as certainly foreign');
  t.same(datas(ms.get(3) as Member), ['x', 'y', 'z'], 'nor does the old member disturb the new history');
});

/** Node 2 of three holding entries 1..3 of term 1 in history `history`, `commit` of them known committed. */
function holding(history: number, commit: number): { raw: RawNode; s: MemoryStorage } {
  const s = new MemoryStorage();
  s.append([1, 2, 3].map((index) => ({ index, term: 1, type: 'normal' as const, data: Buffer.from(`old${index}`) })));
  s.setHardState({ term: 1, vote: 1, commit, history });
  return { raw: new RawNode({ id: 2, voters: [1, 2, 3], rand: new SeededRand(7), preVote: false, applied: commit }, s), s };
}

function drain(raw: RawNode, s: MemoryStorage): Ready {
  const rd = raw.ready();
  s.append(rd.entries);
  if (rd.hardState !== null) s.setHardState(rd.hardState);
  raw.advance(rd);
  return rd;
}

const H1 = 0x1111;
const H2 = 0x2222;
const newEntries = [1, 2, 3, 4].map((index) => ({ index, term: 1, type: 'normal' as const, data: Buffer.from(`new${index}`) }));

t.test('a history binds once something of it is committed: before that it gives way to the leader the others followed', async (t) => {
  const { raw, s } = holding(H1, 0);
  raw.step({ type: 'app', from: 3, to: 2, term: 1, index: 0, logTerm: 0, commit: 0, leaderLast: 4, history: H2, entries: [] });
  t.equal(raw.foreignLeader(), null, 'not refused: nothing of H1 is committed here');
  t.equal(raw.status().leaderId, 3);
  const rd = drain(raw, s);
  t.equal(rd.hardState?.history, H2, "it takes the leader's history, to be made durable before it answers");
  t.ok(rd.mustSync, 'with an fsync');
  t.equal(raw.history(), H2);
});

t.test('bound to its history, a node refuses a leader of another, in appends, heartbeats and snapshots', async (t) => {
  for (const m of [
    { type: 'app' as const, index: 3, logTerm: 1, commit: 4, leaderLast: 4, entries: [] },
    { type: 'heartbeat' as const, commit: 4, ctx: new Uint8Array(0) },
  ]) {
    const { raw, s } = holding(H1, 3);
    raw.step({ ...m, from: 3, to: 2, term: 1, history: H2 } as Message);
    t.match(raw.foreignLeader(), { leader: 3, term: 1, certain: true, histories: { leader: H2, ours: H1 } }, `${m.type}: refused, naming both histories`);
    t.equal(raw.status().leaderId, 0, `${m.type}: no leader named`);
    const rd = drain(raw, s);
    t.same(rd.messages, [], `${m.type}: no answer`);
    t.equal(s.lastIndex(), 3);
    t.equal(raw.history(), H1, `${m.type}: its own history kept`);
  }
  const { raw } = holding(H1, 3);
  raw.step({ type: 'snap', from: 3, to: 2, term: 2, history: H2, snapshot: { metadata: { index: 9, term: 2, voters: [1, 2, 3], learners: [] }, data: new Uint8Array(0) } });
  t.match(raw.foreignLeader(), { certain: true, histories: { leader: H2, ours: H1 } }, 'snap: refused');
  t.equal(raw.status().commit, 3, 'snap: not installed');
});

t.test('a leader of its own history, or one that names none (a release before it), is followed', async (t) => {
  for (const history of [H1, undefined, 0]) {
    const { raw, s } = holding(H1, 3);
    raw.step({ type: 'app', from: 3, to: 2, term: 1, index: 3, logTerm: 1, commit: 4, leaderLast: 4, history, entries: [newEntries[3] as (typeof newEntries)[number]] });
    t.equal(raw.foreignLeader(), null, `history ${history}: followed`);
    drain(raw, s);
    t.equal(s.lastIndex(), 4, `history ${history}: the entry is taken`);
    t.equal(raw.history(), H1, `history ${history}: its own history kept`);
  }
});

t.test('a bound voter turns down a candidate of another history; an unbound one, or a candidate naming none, is judged by logs only', async (t) => {
  const answer = (history: number, commit: number, candidate: number | undefined): string => {
    const { raw, s } = holding(history, commit);
    raw.step({ type: 'vote', from: 3, to: 2, term: 2, index: 5, logTerm: 1, transfer: false, history: candidate });
    const r = drain(raw, s).messages.find((m) => m.type === 'voteResp');
    return r === undefined ? 'silent' : r.type === 'voteResp' && r.reject ? 'rejected' : 'granted';
  };
  t.equal(answer(H1, 3, H2), 'rejected', 'bound to H1, a candidate of H2');
  t.equal(answer(H1, 3, H1), 'granted', 'bound to H1, a candidate of H1');
  t.equal(answer(H1, 3, undefined), 'granted', 'a candidate of an earlier release');
  t.equal(answer(H1, 0, H2), 'granted', 'H1 not bound yet');
  t.equal(answer(0, 3, H2), 'granted', 'a log of an earlier release, with no history');
});

t.test('only a leader whose log is empty founds a history; one with a log keeps what it has, none included', async (t) => {
  const founder = member(1);
  founder.raw.campaign();
  founder.raw.step({ type: 'preVoteResp', from: 2, to: 1, term: 1, reject: false });
  founder.raw.step({ type: 'voteResp', from: 2, to: 1, term: 1, reject: false });
  t.equal(founder.raw.status().role, 'leader');
  t.not(founder.raw.history(), 0, 'an empty log: a history drawn');
  const rd = founder.raw.ready();
  t.equal(rd.hardState?.history, founder.raw.history(), 'made durable with the Ready');
  t.ok(rd.messages.filter((m) => m.type === 'app').every((m) => m.type === 'app' && m.history === founder.raw.history()), 'and named in its appends');

  for (const history of [0, H1]) {
    const { raw } = holding(history, 3);
    raw.campaign();
    raw.step({ type: 'voteResp', from: 1, to: 2, term: 2, reject: false });
    t.equal(raw.status().role, 'leader');
    t.equal(raw.history(), history, `a log of history ${history}: kept`);
  }
});
