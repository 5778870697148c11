// Unit tests of the consensus core: the storage contract (truncation, snapshots, what must be in
// the same Ready as which message), commit rules, flow-control bounds, RawNode misuse, restart,
// and that core/ stays free of I/O, clocks and ambient randomness.

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { RawNode } from '../../server/quorum/core/rawnode.js';
import { FixedRand, SeededRand } from '../../server/quorum/core/rand.js';
import { MemoryStorage, StorageError } from '../../server/quorum/core/storage.js';
import { Inflights } from '../../server/quorum/core/progress.js';
import type { Entry, Message, Ready } from '../../server/quorum/core/types.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const entry = (index: number, term: number, data = ''): Entry => ({ index, term, type: 'normal', data: bytes(data) });

function node(id: number, storage: MemoryStorage, extra: Partial<{ preVote: boolean; maxUncommittedBytes: number }> = {}): RawNode {
  return new RawNode({ id, voters: [1, 2, 3], rand: new FixedRand(), preVote: false, ...extra }, storage);
}

/** The application loop with durable MemoryStorage: persist, then (return) messages, apply, advance. */
function handle(raw: RawNode, storage: MemoryStorage): Ready {
  const ready = raw.ready();
  if (ready.snapshot !== null) {
    storage.applySnapshot(ready.snapshot);
  }
  storage.append(ready.entries);
  if (ready.hardState !== null) {
    storage.setHardState(ready.hardState);
  }
  raw.advance(ready);
  return ready;
}

/** Makes node 1 leader of term 1 in a 3-voter cluster and commits its noop. */
function electLeader(storage: MemoryStorage): RawNode {
  const raw = node(1, storage);
  raw.campaign();
  handle(raw, storage);
  raw.step({ type: 'voteResp', from: 2, to: 1, term: 1, reject: false });
  handle(raw, storage);
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 1, reject: false, rejectHint: 0, logTerm: 0 });
  handle(raw, storage);
  return raw;
}

t.test('MemoryStorage: appending at i discards the stored suffix from i on', async (tt) => {
  const storage = new MemoryStorage();
  storage.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
  storage.append([entry(2, 2, 'x')]);
  tt.equal(storage.lastIndex(), 2, 'entry 3 is gone');
  tt.equal(storage.term(2), 2, 'entry 2 was replaced');
  tt.throws(() => storage.append([entry(5, 2)]), 'a gap is refused');
});

t.test('MemoryStorage: term() answers for [firstIndex-1, lastIndex] and errs outside', async (tt) => {
  const storage = new MemoryStorage();
  storage.append([entry(1, 1), entry(2, 1), entry(3, 2)]);
  storage.createSnapshot(2, { voters: [1, 2, 3], learners: [] }, bytes('s'));
  storage.compact(2);
  tt.equal(storage.firstIndex(), 3);
  tt.equal(storage.term(2), 1, 'the snapshot point keeps its term');
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (error) {
      return error instanceof StorageError ? error.code : 'other';
    }
    return undefined;
  };
  tt.equal(code(() => storage.term(1)), 'compacted');
  tt.equal(code(() => storage.term(4)), 'unavailable');
  tt.equal(code(() => storage.entries(2, 4, 1000)), 'compacted');
  tt.same(storage.entries(3, 4, 1000).map((e) => e.index), [3]);
});

t.test('MemoryStorage: entries() stops at maxBytes but always returns one entry', async (tt) => {
  const storage = new MemoryStorage();
  storage.append([entry(1, 1, 'aaaa'), entry(2, 1, 'bbbb'), entry(3, 1, 'cccc')]);
  tt.equal(storage.entries(1, 4, 1).length, 1);
  tt.equal(storage.entries(1, 4, 40).length, 2, 'two entries of 20 bytes each fit in 40');
  tt.equal(storage.entries(1, 4, 1e6).length, 3);
});

t.test('MemoryStorage: an installed snapshot replaces the whole log and sets the configuration', async (tt) => {
  const storage = new MemoryStorage();
  storage.append([entry(1, 1), entry(2, 1)]);
  storage.applySnapshot({ metadata: { index: 10, term: 3, voters: [1, 2, 3], learners: [4] }, data: bytes('state') });
  tt.equal(storage.firstIndex(), 11);
  tt.equal(storage.lastIndex(), 10);
  tt.equal(storage.term(10), 3);
  tt.same(storage.initialState().confState, { voters: [1, 2, 3], learners: [4] });
});

t.test('a vote response leaves in the same Ready as the vote it promises to persist', async (tt) => {
  const storage = new MemoryStorage();
  const raw = node(2, storage);
  raw.step({ type: 'vote', from: 1, to: 2, term: 1, index: 0, logTerm: 0, transfer: false });
  const ready = raw.ready();
  tt.same(ready.hardState, { term: 1, vote: 1, commit: 0 }, 'the vote is in this Ready');
  tt.ok(ready.mustSync, 'and must be synced before the response is sent');
  tt.same(ready.messages.map((m) => `${m.type}:${m.to}`), ['voteResp:1']);
});

t.test('an append response leaves in the same Ready as the entries it acknowledges', async (tt) => {
  const storage = new MemoryStorage();
  const raw = node(2, storage);
  raw.step({ type: 'app', from: 1, to: 2, term: 1, index: 0, logTerm: 0, commit: 0, entries: [entry(1, 1, 'a')] });
  const ready = raw.ready();
  tt.same(ready.entries.map((e) => e.index), [1]);
  tt.ok(ready.mustSync);
  const response = ready.messages[0] as Message;
  tt.equal(response.type, 'appResp');
  tt.equal(response.type === 'appResp' ? response.index : -1, 1);
});

t.test('a follower truncates its uncommitted conflicting suffix and never its committed prefix', async (tt) => {
  const storage = new MemoryStorage();
  storage.append([entry(1, 1, 'a'), entry(2, 1, 'b'), entry(3, 1, 'c')]);
  storage.setHardState({ term: 1, vote: 0, commit: 1 });
  const raw = node(2, storage);
  raw.step({ type: 'app', from: 3, to: 2, term: 2, index: 1, logTerm: 1, commit: 1, entries: [entry(2, 2, 'B')] });
  const ready = handle(raw, storage);
  tt.same(ready.entries.map((e) => `${e.term}/${e.index}`), ['2/2'], 'the Ready carries the replacement');
  tt.equal(storage.lastIndex(), 2, 'entry 3 of term 1 was discarded');
  tt.equal(raw.term(2), 2);
});

t.test('a leader never commits an entry of an earlier term by counting replicas (Raft §5.4.2)', async (tt) => {
  const storage = new MemoryStorage();
  storage.append([entry(1, 1, 'a'), entry(2, 1, 'b')]);
  storage.setHardState({ term: 1, vote: 0, commit: 1 });
  const raw = node(1, storage);
  raw.campaign();
  handle(raw, storage);
  raw.step({ type: 'voteResp', from: 3, to: 1, term: 2, reject: false });
  handle(raw, storage);
  tt.equal(raw.status().role, 'leader');
  tt.equal(raw.status().lastIndex, 3, 'the leader appended its noop at 3');
  raw.step({ type: 'appResp', from: 2, to: 1, term: 2, index: 2, reject: false, rejectHint: 0, logTerm: 0 });
  tt.equal(raw.status().commit, 1, 'entry 2 (term 1) is on a quorum but is not committed');
  raw.step({ type: 'appResp', from: 2, to: 1, term: 2, index: 3, reject: false, rejectHint: 0, logTerm: 0 });
  tt.equal(raw.status().commit, 3, 'committing the noop of term 2 commits entry 2 with it');
});

t.test("the leader's own entries count towards the quorum only once advance() reports them durable", async (tt) => {
  const storage = new MemoryStorage();
  const raw = electLeader(storage);
  const result = raw.propose([bytes('x')]);
  tt.ok(result.ok);
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 2, reject: false, rejectHint: 0, logTerm: 0 });
  tt.equal(raw.status().commit, 1, 'one follower ack alone is not a quorum while our copy is unsynced');
  handle(raw, storage);
  tt.equal(raw.status().commit, 2, 'after advance the leader counts itself');
});

t.test('propose returns the index (= zxid) and term of each batch, or why it was refused', async (tt) => {
  const storage = new MemoryStorage();
  const follower = node(2, new MemoryStorage());
  tt.same(follower.propose([bytes('x')]), { ok: false, reason: 'not-leader', leaderId: 0 });
  const raw = electLeader(storage);
  tt.same(raw.propose([bytes('a'), bytes('b'), bytes('c')]), { ok: true, firstIndex: 2, lastIndex: 4, term: 1 });
  tt.same(raw.propose([bytes('d')]), { ok: true, firstIndex: 5, lastIndex: 5, term: 1 });
});

t.test('proposals are refused once maxUncommittedBytes of entries wait for commit', async (tt) => {
  const storage = new MemoryStorage();
  const raw = new RawNode({ id: 1, voters: [1, 2, 3], rand: new FixedRand(), preVote: false, maxUncommittedBytes: 100 }, storage);
  raw.campaign();
  handle(raw, storage);
  raw.step({ type: 'voteResp', from: 2, to: 1, term: 1, reject: false });
  handle(raw, storage);
  tt.ok(raw.propose([new Uint8Array(60)]).ok, 'a first oversized batch is accepted on an empty queue');
  tt.same(raw.propose([new Uint8Array(10)]), { ok: false, reason: 'queue-full', leaderId: 1 });
});

t.test('ready() twice without advance() is a caller bug', async (tt) => {
  const storage = new MemoryStorage();
  const raw = node(1, storage);
  raw.campaign();
  raw.ready();
  tt.throws(() => raw.ready(), /before advance/);
});

t.test('inflight window is bounded in messages and bytes and frees by acknowledgement', async (tt) => {
  const window = new Inflights(3, 100);
  window.add(1, 10);
  window.add(2, 10);
  tt.notOk(window.full());
  window.add(3, 10);
  tt.ok(window.full(), 'three messages fill it');
  tt.throws(() => window.add(4, 10));
  window.freeLE(2);
  tt.equal(window.count, 1);
  window.add(4, 95);
  tt.ok(window.full(), '105 bytes reach the byte bound');
});

t.test('a restarted node recovers term, vote, commit and configuration from storage', async (tt) => {
  const storage = new MemoryStorage();
  const raw = electLeader(storage);
  raw.propose([bytes('x')]);
  handle(raw, storage);
  raw.step({ type: 'appResp', from: 2, to: 1, term: 1, index: 2, reject: false, rejectHint: 0, logTerm: 0 });
  handle(raw, storage);
  const before = raw.status();
  const restarted = new RawNode({ id: 1, voters: [1, 2, 3], rand: new FixedRand() }, storage);
  const after = restarted.status();
  tt.equal(after.term, before.term);
  tt.equal(after.vote, before.vote);
  tt.equal(after.commit, before.commit);
  tt.equal(after.role, 'follower', 'leadership is not durable');
  const ready = restarted.ready();
  tt.same(ready.committedEntries.map((e) => e.index), [1, 2], 'committed entries are re-applied');
  restarted.advance(ready);

  storage.createSnapshot(2, { voters: [1, 2, 3], learners: [4] }, new Uint8Array([1]));
  storage.compact(2);
  const fromSnapshot = new RawNode({ id: 1, voters: [1, 2, 3, 5], rand: new FixedRand(), applied: 2 }, storage);
  tt.same(fromSnapshot.status().conf, { voters: [1, 2, 3], learners: [4] }, "the snapshot's configuration wins over config");
  tt.equal(fromSnapshot.status().applied, 2);
  tt.notOk(fromSnapshot.hasReady(), 'with applied = snapshot index there is nothing to re-apply');
});

t.test('SeededRand is deterministic per seed', async (tt) => {
  const a = new SeededRand(7);
  const b = new SeededRand(7);
  const c = new SeededRand(8);
  const seq = (r: SeededRand): number[] => Array.from({ length: 8 }, () => r.intn(1000));
  const first = seq(a);
  tt.same(seq(b), first);
  tt.not(JSON.stringify(seq(c)), JSON.stringify(first));
});

t.test('the core imports nothing that does I/O and reads no clock or ambient randomness', async (tt) => {
  const dir = fileURLToPath(new URL('../../../server/quorum/core/', import.meta.url));
  const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
  tt.ok(files.length >= 8, 'core sources found');
  const forbidden = /Math\.random|Date\.now|new Date\(|performance\.now|setTimeout|setInterval|setImmediate|process\.|from 'node:(?!assert)/;
  for (const file of files) {
    const source = readFileSync(`${dir}${file}`, 'utf8');
    tt.notMatch(source, forbidden, `${file} is pure`);
    tt.match(source.split('\n')[0], /^\/\/ \S/, `${file} starts with a responsibility comment`);
  }
});
