// A follower must not let a stale copy of a snapshot roll it back or spoil the copy it is receiving: the core
// drops an offer from an older term or at an index it already covers; the engine refuses a streamed copy older
// than what it applied, and never hands the core an offer whose stream it did not install; the receiver keeps
// one stream (by its id) and ignores the frames of any other. And a leader that is deposed stops its stream.

import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { defaultConfig, type Config } from '../../server/config.js';
import { RawNode } from '../../server/quorum/core/rawnode.js';
import { FixedRand } from '../../server/quorum/core/rand.js';
import { MemoryStorage, StorageError } from '../../server/quorum/core/storage.js';
import type { Message, Ready, Snapshot } from '../../server/quorum/core/types.js';
import { RaftEngine } from '../../server/quorum/engine.js';
import { SnapshotReceiver, removeSnapshotsInTransit, sendSnapshot, type SnapshotFrame } from '../../server/quorum/snapshot-transfer.js';
import { OPEN_ACL_UNSAFE } from '../../server/tree/acl.js';
import { RaftLog } from '../../storage/raft-log.js';
import { Store } from '../../storage/store.js';
import { tempDir } from '../helpers/server.js';
import { openTestStore } from '../helpers/store.js';

const VOTERS = [1, 2, 3];
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const silent = pino({ level: 'silent' });

// ---- the consensus core ------------------------------------------------------------------------

function snapshot(index: number, term: number): Snapshot {
  return { metadata: { index, term, voters: VOTERS, learners: [] }, data: bytes(`state@${index}`) };
}

function persist(raw: RawNode, storage: MemoryStorage): Ready {
  const ready = raw.ready();
  if (ready.snapshot !== null) storage.applySnapshot(ready.snapshot);
  storage.append(ready.entries);
  if (ready.hardState !== null) storage.setHardState(ready.hardState);
  raw.advance(ready);
  return ready;
}

/** Node 2 restarted from a durable snapshot at `index`, then heard from leader 1 of `term`. */
function follower(index: number, term: number): { raw: RawNode; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  storage.applySnapshot(snapshot(index, term));
  storage.setHardState({ term, vote: 1, commit: index });
  const raw = new RawNode({ id: 2, voters: VOTERS, rand: new FixedRand(), applied: index }, storage);
  raw.step({ type: 'heartbeat', from: 1, to: 2, term, commit: index, ctx: new Uint8Array(0) });
  persist(raw, storage);
  return { raw, storage };
}

const acks = (ready: Ready): number[] => ready.messages.flatMap((m) => (m.type === 'appResp' && !m.reject ? [m.index] : []));

t.test('core: a snapshot offer from an older term is dropped, even one reaching past the log', async (tt) => {
  const { raw, storage } = follower(5, 3);
  // A deposed leader of term 2 may hold a longer, never-committed history; installing it would diverge.
  raw.step({ type: 'snap', from: 3, to: 2, term: 2, snapshot: snapshot(20, 2) });
  const ready = raw.hasReady() ? persist(raw, storage) : null;
  tt.equal(ready?.snapshot ?? null, null, 'no snapshot is handed out for install');
  tt.same(ready === null ? [] : acks(ready), [], 'nothing acknowledges the stale copy');
  const { term, commit, lastIndex, leaderId } = raw.status();
  tt.same({ term, commit, lastIndex, leaderId }, { term: 3, commit: 5, lastIndex: 5, leaderId: 1 }, 'state and leader unchanged');
  tt.equal(storage.snapshot().metadata.index, 5);
});

t.test('core: a delayed offer of an older (or the same) snapshot does not replace the one installed', async (tt) => {
  const { raw, storage } = follower(5, 3);
  raw.step({ type: 'snap', from: 1, to: 2, term: 3, snapshot: snapshot(10, 3) });
  tt.equal(persist(raw, storage).snapshot?.metadata.index, 10, 'the current copy is installed');
  for (const stale of [6, 10]) {
    raw.step({ type: 'snap', from: 1, to: 2, term: 3, snapshot: snapshot(stale, 3) });
    const ready = persist(raw, storage);
    tt.equal(ready.snapshot, null, `the copy at ${stale} is not installed`);
    tt.same(acks(ready), [10], 'the leader is told the follower holds 10');
  }
  tt.equal(storage.firstIndex(), 11, 'the log still starts after snapshot 10');
  tt.equal(raw.status().commit, 10);
});

// ---- the engine: a real leader store streamed into a follower engine ------------------------------

/** The engine's receiving side as the transport reaches it; start() would open sockets and timers. */
interface EngineInside {
  raftLog: RaftLog;
  rawnode: RawNode;
  gate: { installing: boolean };
  makeRawNode(): RawNode;
  onPeer(from: number, msg: SnapshotFrame | { k: 'raft'; m: Message }): void;
}

async function create(store: Store, path: string, zxid: number): Promise<void> {
  await store.writeDurably((view, setLastZxid) => {
    const stamp = { czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0 };
    view.putNode(path, { ...stamp, data: bytes(path), owner: '', kind: 'persistent', ttlMs: 0, numChildren: 0, acl: OPEN_ACL_UNSAFE });
    setLastZxid(zxid);
  });
}

let streams = 0;

async function stream(leader: { store: Store; dir: string }, to: EngineInside): Promise<number> {
  const sent = await sendSnapshot({
    store: leader.store,
    dataDir: leader.dir,
    to: 2,
    sid: `1:1:${++streams}`,
    lterm: 1,
    send: (frame) => (to.onPeer(1, frame), true),
    termOf: () => 1,
    stillLeader: () => true,
    deadlineMs: 10_000,
    log: silent,
  });
  while (to.gate.installing) await new Promise((r) => setTimeout(r, 5));
  return sent.index;
}

/** Follower 2's engine over its own store, not started (no sockets or timers): frames go to onPeer. */
function followerEngine(tt: Test, local: { store: Store; dir: string }): { engine: RaftEngine; inside: EngineInside } {
  const cfg: Config = {
    ...defaultConfig(),
    myid: 2,
    dataDir: local.dir,
    ensembleSecret: 'stale-snapshot-test',
    servers: VOTERS.map((id) => ({ id, host: '127.0.0.1', peerPort: 1, electionPort: 1, role: 'participant' as const })),
  };
  const engine = new RaftEngine(local.store, cfg, { onCommitted: () => {}, onFatal: (e) => tt.fail(String(e)) }, silent);
  const inside = engine as unknown as EngineInside;
  inside.raftLog = new RaftLog(local.store, { voters: VOTERS, learners: [] });
  return { engine, inside };
}

t.test('engine: a streamed copy older than the applied state is not installed; a newer one is', async (tt) => {
  const leader = openTestStore(tt, 'zkgate-stale-leader-');
  const local = openTestStore(tt, 'zkgate-stale-follower-');
  await create(leader.store, '/', 1);
  await create(leader.store, '/old', 3);
  await create(local.store, '/', 1);
  await create(local.store, '/mine', 5);
  const { engine, inside } = followerEngine(tt, local);

  tt.equal(await stream(leader, inside), 3, "the leader's copy was taken at 3");
  tt.ok(local.store.getNode('/mine'), 'the follower keeps what it applied');
  tt.notOk(local.store.getNode('/old'), 'nothing of the older copy is in the tree');
  tt.equal(local.store.lastZxid(), 5);
  tt.equal(engine.appliedZxid, 5);
  tt.notOk(local.store.installInterrupted, 'no install was begun');

  await create(leader.store, '/fresh', 8);
  tt.equal(await stream(leader, inside), 8);
  tt.ok(local.store.getNode('/fresh'), 'a copy newer than the applied state is installed');
  tt.notOk(local.store.getNode('/mine'));
  tt.equal(engine.appliedZxid, 8);
  const inTransit = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('snapshot-'));
  tt.same(inTransit(leader.dir), [], "no copy, nor its LMDB lock file, is left in the leader's dataDir");
  tt.same(inTransit(local.dir), [], "nor in the follower's");
});

t.test('leader: a copy says its own term, so a log compacted past it while the copy was made does not fail the transfer', async (tt) => {
  const leader = openTestStore(tt, 'zkgate-compacted-leader-');
  await create(leader.store, '/', 1);
  await create(leader.store, '/a', 3);
  // The consensus log as the store holds it: compacted to 2 (term 1), then index 3 in term 2.
  await leader.store.writeDurably(() => {
    leader.store.metaPut('raft.snap', { index: 2, term: 1 });
    void leader.store.openDb<number, number>('raft.terms').put(3, 2);
  });
  const frames: SnapshotFrame[] = [];
  const sent = await sendSnapshot({
    store: leader.store,
    dataDir: leader.dir,
    to: 2,
    sid: '1:2:1',
    lterm: 2,
    send: (f) => (frames.push(f), true),
    termOf: (i) => {
      throw new StorageError('compacted', `term(${i}) below compaction point 9`);
    },
    stillLeader: () => true,
    deadlineMs: 10_000,
    log: silent,
  });
  tt.same(sent, { index: 3, term: 2 }, "the term of the copy's zxid, from the copy's own log");
  tt.match(frames.at(-1), { k: 'snapEnd', index: 3, term: 2 });
});

t.test("start: the files of transfers a crash cut short are removed, and nothing else", async (tt) => {
  const dir = tempDir('zkgate-in-transit-');
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const left = ['snapshot-out-2.mdb', 'snapshot-out-2.mdb-lock', 'snapshot-out-13.mdb', 'snapshot-in.mdb', 'snapshot-in.mdb-lock'];
  const kept = ['zkgate.mdb', 'zkgate.mdb-lock', 'myid', 'snapshot-out-x.mdb', 'my-snapshot.mdb'];
  for (const f of [...left, ...kept]) writeFileSync(join(dir, f), 'x');
  removeSnapshotsInTransit(dir, silent);
  tt.same(readdirSync(dir).sort(), [...kept].sort());
});

t.test('engine: a snapshot offer whose stream was not installed never reaches the core', async (tt) => {
  const leader = openTestStore(tt, 'zkgate-offer-leader-');
  const local = openTestStore(tt, 'zkgate-offer-follower-');
  await create(leader.store, '/', 1);
  await create(leader.store, '/theirs', 9);
  // A new member: nothing applied, nothing in its log.
  const { engine, inside } = followerEngine(tt, local);
  inside.rawnode = inside.makeRawNode();
  // A stream that breaks off (its end never comes), then the leader's offer at the copy's index.
  inside.onPeer(1, { k: 'snapChunk', sid: '1:1:1', lterm: 1, seq: 0, data: bytes('partial') });
  const offer: Message = { type: 'snap', from: 1, to: 2, term: 1, snapshot: { metadata: { index: 9, term: 1, voters: VOTERS, learners: [] }, data: new Uint8Array(0) } };
  inside.onPeer(1, { k: 'raft', m: offer });
  tt.equal(inside.rawnode.status().commit, 0, 'the core did not take the state at 9 as present');
  tt.notOk(inside.rawnode.hasReady(), 'and has nothing to persist from it');
  tt.equal(engine.appliedZxid, 0);
  tt.notOk(local.store.getNode('/theirs'));
  // A stream that completes is installed, and the core is rebuilt over it: the state at 9 is there for real.
  tt.equal(await stream(leader, inside), 9);
  tt.equal(engine.appliedZxid, 9);
  tt.equal(inside.rawnode.status().commit, 9);
  tt.ok(local.store.getNode('/theirs'));
});

t.test('leader: a stream stops at the next frame once its sender is no longer the leader that began it', async (tt) => {
  const leader = openTestStore(tt, 'zkgate-deposed-leader-');
  await create(leader.store, '/', 1);
  // Enough data for several 1 MiB chunks.
  const big = 'x'.repeat(900_000);
  for (let i = 0; i < 4; i++) {
    await leader.store.writeDurably((view, setLastZxid) => {
      const stamp = { czxid: 2 + i, mzxid: 2 + i, pzxid: 2 + i, ctime: 0, mtime: 0, version: 0, cversion: 0, aversion: 0 };
      view.putNode(`/big${i}`, { ...stamp, data: bytes(big), owner: '', kind: 'persistent', ttlMs: 0, numChildren: 0, acl: OPEN_ACL_UNSAFE });
      setLastZxid(2 + i);
    });
  }
  const frames: SnapshotFrame[] = [];
  let leading = true;
  const sending = sendSnapshot({
    store: leader.store,
    dataDir: leader.dir,
    to: 2,
    sid: '1:4:1',
    lterm: 4,
    send: (frame) => {
      frames.push(frame);
      if (frames.length === 2) leading = false; // deposed while the second chunk is on its way
      return true;
    },
    termOf: () => 4,
    stillLeader: () => leading,
    deadlineMs: 10_000,
    log: silent,
  });
  await tt.rejects(sending, /no longer the leader/);
  tt.equal(frames.length, 2, 'nothing was sent after the step-down');
  tt.notOk(frames.some((f) => f.k === 'snapEnd'), 'and no end frame, so no follower installs it');
  tt.ok(frames.every((f) => f.sid === '1:4:1'));
});

// ---- the receiver -------------------------------------------------------------------------------

t.test('receiver: chunk 0 starts a new stream; frames of any other stream are ignored, a gap is refused', async (tt) => {
  const dir = tempDir('zkgate-stale-receiver-');
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const receiver = new SnapshotReceiver(dir);
  tt.ok(receiver.chunk('A', 1, 0, bytes('old0')));
  tt.ok(receiver.chunk('A', 1, 1, bytes('old1')));
  tt.ok(receiver.chunk('B', 2, 0, bytes('new0')), 'a new stream supersedes the one in progress');
  tt.notOk(receiver.chunk('A', 1, 2, bytes('old2')), 'a late chunk of the superseded stream is ignored');
  tt.throws(() => receiver.chunk('B', 2, 5, bytes('new5')), /out of order/, 'a gap in the current stream is refused');
  tt.ok(receiver.chunk('B', 2, 1, bytes('new1')));
  const file = await receiver.finish('B', 8);
  tt.equal(readFileSync(file).toString(), 'new0new1', 'the file holds the current stream only');
});

t.test('receiver: a late start of an older term\'s stream does not push aside the newer one', async (tt) => {
  const dir = tempDir('zkgate-older-start-');
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const receiver = new SnapshotReceiver(dir);
  tt.ok(receiver.chunk('B', 5, 0, bytes('new0')));
  tt.notOk(receiver.chunk('A', 4, 0, bytes('old0')), 'chunk 0 of a term-4 stream while a term-5 one is in progress');
  tt.ok(receiver.current('B'));
  tt.ok(receiver.chunk('B', 5, 1, bytes('new1')));
  tt.equal(readFileSync(await receiver.finish('B', 8)).toString(), 'new0new1');
  // With nothing in progress, any leader's stream may start (the follower cannot know the term is stale).
  tt.ok(receiver.chunk('A', 4, 0, bytes('old0')));
  tt.equal(readFileSync(await receiver.finish('A', 4)).toString(), 'old0');
});

t.test('receiver: two streams interleaved (a deposed leader and its successor) never mix in one file', async (tt) => {
  const dir = tempDir('zkgate-mixed-receiver-');
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const receiver = new SnapshotReceiver(dir);
  // Equal chunk sizes, so a byte count alone could not tell the streams apart.
  receiver.chunk('A', 1, 0, bytes('aaaa'));
  receiver.chunk('B', 2, 0, bytes('bbbb'));
  tt.notOk(receiver.chunk('A', 1, 1, bytes('AA')));
  tt.notOk(receiver.current('A'), "A's end is not for the stream being received");
  await tt.rejects(receiver.finish('A', 6), /not the one being received/);
  tt.ok(receiver.current('B'), 'and rejecting it left B in progress');
  tt.ok(receiver.chunk('B', 2, 1, bytes('BB')));
  const file = await receiver.finish('B', 6);
  tt.equal(readFileSync(file).toString(), 'bbbbBB');
});
