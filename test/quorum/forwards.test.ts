// Forwarded writes over a real peer link (loopback TCP, two PeerTransports): a leader that says it takes batches
// gets a turn's writes in one frame; a leader of an older release (no `b` in its answers, `fwds` unknown to it) gets
// every write in a frame of its own; and a new link to the leader forgets what the old one said. The consensus core
// behind the leader's ProposalBatch is a stand-in that places each write at the next index.
import t, { type Test } from 'tap';
import pino from 'pino';
import { PeerTransport } from '../../server/quorum/transport.js';
import { answerForward, answerForwards, Forwards, LeaderMoved, type ForwardFrame } from '../../server/quorum/forwards.js';
import { ProposalBatch } from '../../server/quorum/proposals.js';
import type { RawNode } from '../../server/quorum/core/index.js';
import type { Txn } from '../../server/tree/types.js';
import { membersOf } from '../helpers/peers.js';
import { freePort } from '../helpers/server.js';

const log = pino({ level: 'silent' });
const TERM = 7;

function setTxn(i: number): Txn {
  return { type: 'set', path: `/k${i}`, data: new Uint8Array([i & 0xff]), version: -1, time: 0, auth: [], session: '' } as Txn;
}

async function until(pred: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** Peer 1 forwards; peer 2 leads, answering as this release does (`current`) or as one from before batches. */
async function link(t: Test) {
  const [p1, p2] = [await freePort(), await freePort()];
  const peers = [
    { id: 1, host: '127.0.0.1', port: p1 },
    { id: 2, host: '127.0.0.1', port: p2 },
  ];
  const mk = (id: number, port: number) =>
    new PeerTransport({ myId: id, listenHost: '127.0.0.1', listenPort: port, peers: peers.filter((p) => p.id !== id), membership: membersOf(peers), secret: 's', maxFrameBytes: 4 << 20, maxQueueBytes: 8 << 20, log });
  const follower = mk(1, p1);
  const forwards = new Forwards(follower, { proposalTimeoutMs: 2000 });
  follower.on('message', (from: number, msg: unknown) => {
    const m = msg as ForwardFrame;
    if (m.k === 'fwdOk' || m.k === 'fwdErr' || m.k === 'fwdAns') forwards.answered(from, m);
    if ((msg as { k: string }).k === 'bye') forwards.peerStopped(from);
  });
  await follower.start();
  let next = 1;
  const core = { propose: (datas: Uint8Array[]) => ({ ok: true, firstIndex: (next += datas.length) - datas.length, lastIndex: next - 1, term: TERM }) } as unknown as RawNode;
  let leader: PeerTransport | null = null;
  const frames: string[] = [];
  const startLeader = async (current: boolean, silent = false) => {
    const l = mk(2, p2);
    const proposals: ProposalBatch = new ProposalBatch({ maxPendingWrites: 10000 }, () => proposals.flush(core));
    l.on('message', (from: number, msg: unknown) => {
      const m = msg as ForwardFrame;
      frames.push(m.k);
      if (silent) return;
      if (current && m.k === 'fwd') answerForward(l, from, m, proposals, 2, () => {});
      else if (current && m.k === 'fwds') answerForwards(l, from, m, proposals, 2, () => {});
      // An older release: answers a single forward without saying it batches, and knows no `fwds`.
      else if (m.k === 'fwd') void proposals.add(setTxn(0), 2).then((r) => r.ok && l.send(from, { k: 'fwdOk', rid: m.rid, index: r.firstIndex, term: r.term }));
    });
    await l.start();
    leader = l;
    if (!(await until(() => follower.isConnected(2) && l.isConnected(1)))) throw new Error('no link');
  };
  t.teardown(async () => {
    await follower.stop();
    await leader?.stop();
  });
  return { forwards, frames, startLeader, stopLeader: async () => (leader as PeerTransport | null)?.stop(), leader: () => leader as PeerTransport | null };
}

t.test('a leader that takes batches: after its first answer, the writes of one turn travel in one frame each way', async (t) => {
  const { forwards, frames, startLeader } = await link(t);
  await startLeader(true);
  const first = await forwards.forward(2, setTxn(1));
  t.same(first, { index: 1, term: TERM }, 'the first write goes alone and is placed');
  t.same(frames, ['fwd']);
  const placed = await Promise.all(Array.from({ length: 50 }, (_x, i) => forwards.forward(2, setTxn(i + 2))));
  t.same(
    placed.map((p) => p.index),
    Array.from({ length: 50 }, (_x, i) => i + 2),
    'fifty writes of one turn are placed in the order sent',
  );
  t.same(frames, ['fwd', 'fwds'], 'and reached the leader as one frame');
  t.equal(forwards.size, 0, 'nothing is left waiting');
});

t.test('a leader of an older release: every write travels alone and is answered; a new link forgets batching', async (t) => {
  const { forwards, frames, startLeader, stopLeader } = await link(t);
  await startLeader(true);
  await forwards.forward(2, setTxn(1));
  await Promise.all([forwards.forward(2, setTxn(2)), forwards.forward(2, setTxn(3))]);
  t.same(frames, ['fwd', 'fwds'], 'the current leader gets batches');
  // The leader restarts as an older release: the follower must not send it batches, which it would ignore.
  await stopLeader();
  frames.length = 0;
  await startLeader(false);
  const placed = await Promise.all(Array.from({ length: 5 }, (_x, i) => forwards.forward(2, setTxn(i + 10))));
  t.equal(placed.length, 5, 'every write is answered');
  t.same(frames, ['fwd', 'fwd', 'fwd', 'fwd', 'fwd'], 'each in a frame of its own');
});

t.test('a leader that says goodbye: what it left unanswered was never proposed, so it fails as LeaderMoved at once and is not sent there again', async (t) => {
  const { forwards, startLeader, leader } = await link(t);
  await startLeader(true, true);
  const pending = forwards.forward(2, setTxn(1)).then(
    () => 'placed',
    (e: unknown) => e,
  );
  await new Promise((r) => setTimeout(r, 50));
  t.equal(forwards.size, 1, 'the forward waits for an answer that does not come');
  await leader()?.sendLast({ k: 'bye' }, 1000);
  const e = await pending;
  // Timing out instead (proposalTimeoutMs) would be a plain ConnectionLoss: the write's fate unknown, answered 503.
  t.ok(e instanceof LeaderMoved, `it fails as LeaderMoved, to be placed again (${String(e)})`);
  t.equal(forwards.size, 0, 'nothing is left waiting');
  const again = await forwards.forward(2, setTxn(2)).then(
    () => 'placed',
    (e2: unknown) => e2,
  );
  t.ok(again instanceof LeaderMoved, 'a write forwarded to it afterwards fails the same way at once');
});
