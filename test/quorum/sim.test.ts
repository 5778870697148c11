// Tests of the simulator itself: the disk loses exactly the unsynced writes at a crash, the
// network honours cut links, and the safety checker rejects each kind of violation it names.

import t from 'tap';
import { SeededRand } from '../../server/quorum/core/rand.js';
import type { Entry } from '../../server/quorum/core/types.js';
import { SafetyChecker } from './sim/checker.js';
import type { LogView } from './sim/checker.js';
import { SimDisk } from './sim/disk.js';
import { SimNetwork } from './sim/network.js';

const entry = (index: number, term: number, data: string): Entry => ({
  index,
  term,
  type: 'normal',
  data: new TextEncoder().encode(data),
});

function view(terms: number[]): LogView {
  return { term: (i) => (i === 0 ? 0 : terms[i - 1]), firstIndex: 1, lastIndex: terms.length };
}

t.test('disk: synced writes survive a crash, unsynced ones may not', async (tt) => {
  const disk = new SimDisk();
  disk.write([{ kind: 'entries', entries: [entry(1, 1, 'a')] }, { kind: 'hardState', hardState: { term: 1, vote: 1, commit: 1 } }]);
  disk.sync();
  disk.write([{ kind: 'entries', entries: [entry(2, 1, 'b')] }]);
  tt.equal(disk.live.lastIndex(), 2, 'a running node sees its unsynced write');
  disk.crash({ intn: () => 0 });
  tt.equal(disk.live.lastIndex(), 1, 'the unsynced entry is lost');
  tt.same(disk.live.hardState(), { term: 1, vote: 1, commit: 1 });
  disk.write([{ kind: 'entries', entries: [entry(2, 1, 'b')] }]);
  disk.write([{ kind: 'entries', entries: [entry(3, 1, 'c')] }]);
  disk.crash({ intn: () => 1 });
  tt.equal(disk.live.lastIndex(), 2, 'a crash may keep a prefix of the unsynced batches');
});

t.test('network: a cut link drops, the reverse direction still delivers', async (tt) => {
  const network = new SimNetwork(new SeededRand(1), { dropProbability: 0, duplicateProbability: 0, delayMinUnits: 1, delayMaxUnits: 1 });
  network.cutLink(1, 2);
  tt.equal(network.send({ type: 'timeoutNow', from: 1, to: 2, term: 1 }, 0), 'dropped');
  tt.equal(network.send({ type: 'timeoutNow', from: 2, to: 1, term: 1 }, 0), 'queued');
  const due = network.due(1);
  tt.equal(due.length, 1);
  tt.equal(due[0].from, 2);
});

t.test('checker: two leaders in one term violate election safety', async (tt) => {
  const checker = new SafetyChecker();
  checker.onLeader(1, 3, view([1]));
  tt.throws(() => checker.onLeader(2, 3, view([1])), /election safety/);
});

t.test('checker: a leader missing a committed entry violates leader completeness', async (tt) => {
  const checker = new SafetyChecker();
  checker.onCommit(1, 2, view([1, 1]));
  tt.throws(() => checker.onLeader(2, 2, view([1, 2])), /leader completeness/);
  tt.throws(() => checker.onLeader(3, 3, view([1])), /leader completeness/);
});

t.test('checker: same index and term with different data violates log matching', async (tt) => {
  const checker = new SafetyChecker();
  checker.onAppend(1, [entry(1, 1, 'a')], view([]));
  tt.throws(() => checker.onAppend(2, [entry(1, 1, 'b')], view([])), /log matching/);
});

t.test('checker: different entries applied at one index violate state machine safety', async (tt) => {
  const checker = new SafetyChecker();
  checker.onApply(1, entry(1, 1, 'a'), 11);
  tt.throws(() => checker.onApply(2, entry(1, 2, 'b'), 12), /state machine safety/);
});

t.test('checker: a leader rewriting its own uncommitted entry violates leader append-only', async (tt) => {
  const checker = new SafetyChecker();
  checker.onLeaderLog(1, 2, 0, view([1, 2]));
  tt.throws(() => checker.onLeaderLog(1, 2, 0, view([1, 3])), /append-only/);
});

t.test('checker: a read point below what was committed before the read is not linearizable', async (tt) => {
  const checker = new SafetyChecker();
  tt.doesNotThrow(() => checker.onReadState(1, 5, 5));
  tt.throws(() => checker.onReadState(1, 4, 5), /linearizable read/);
});
