// A starting member moves its election clock on by electionTicks - 2 once a quorum of voters is linked, once, and
// only while it knows no leader; the one with the lowest id among the linked campaigns at once instead
// (server/quorum/election-advance.ts). The transport is an EventEmitter here: what is
// checked is when the ticks are given, not the network.
import t from 'tap';
import { EventEmitter } from 'node:events';
import { advanceElectionAtStart, type ElectionAdvanceSide } from '../../server/quorum/election-advance.js';

function side(o: Partial<ElectionAdvanceSide> & { linked?: Set<number>; leader?: () => boolean } = {}) {
  const linked = o.linked ?? new Set<number>();
  const transport = Object.assign(new EventEmitter(), { isConnected: (id: number) => linked.has(id) });
  const seen = { ticks: 0, kicks: 0, campaigns: 0 };
  const s: ElectionAdvanceSide = {
    transport,
    myid: 3,
    voters: [1, 2, 3],
    electionTicks: 10,
    leaderKnown: o.leader ?? (() => false),
    tick: () => seen.ticks++,
    campaign: () => seen.campaigns++,
    kick: () => seen.kicks++,
    windowMs: 5000,
    ...o,
  };
  const up = (id: number) => {
    linked.add(id);
    transport.emit('up', id);
  };
  return { s, seen, up, transport };
}

t.test('three voters: the ticks come when the first peer links (two of three can elect), once', async (t) => {
  const { s, seen, up, transport } = side();
  advanceElectionAtStart(s);
  t.equal(seen.ticks, 0, 'nothing while alone');
  up(2);
  t.equal(seen.ticks, 8, 'electionTicks - 2');
  t.equal(seen.kicks, 1);
  up(3);
  t.equal(seen.ticks, 8, 'not again');
  t.equal(transport.listenerCount('up'), 0, 'stopped listening');
  t.equal(seen.campaigns, 0, 'a lower id is linked: no campaign of its own at once');
});

t.test('the lowest id among the linked voters campaigns at once, without ticks', async (t) => {
  const { s, seen, up } = side({ myid: 1 });
  advanceElectionAtStart(s);
  up(3);
  t.equal(seen.campaigns, 1);
  t.equal(seen.ticks, 0);
  t.equal(seen.kicks, 1, 'and the engine is kicked to send its pre-votes');
  up(2);
  t.equal(seen.campaigns, 1, 'once');
});

t.test('lowest among those linked, not among all voters: 2 and 3 linked while 1 is down', async (t) => {
  const two = side({ myid: 2 });
  advanceElectionAtStart(two.s);
  two.up(3);
  t.same([two.seen.campaigns, two.seen.ticks], [1, 0], 'member 2 campaigns');
  const three = side({ myid: 3 });
  advanceElectionAtStart(three.s);
  three.up(2);
  t.same([three.seen.campaigns, three.seen.ticks], [0, 8], 'member 3 only moves its clock on');
});

t.test('five voters: not before two peers are linked', async (t) => {
  const { s, seen, up } = side({ myid: 5, voters: [1, 2, 3, 4, 5] });
  advanceElectionAtStart(s);
  up(4);
  t.equal(seen.ticks, 0);
  up(2);
  t.equal(seen.ticks, 8);
  const low = side({ myid: 1, voters: [1, 2, 3, 4, 5] });
  advanceElectionAtStart(low.s);
  low.up(4);
  t.equal(low.seen.campaigns, 0, 'the lowest id waits for a quorum too');
  low.up(5);
  t.equal(low.seen.campaigns, 1);
});

t.test('links already up at start count at once', async (t) => {
  const { s, seen } = side({ linked: new Set([2]) });
  advanceElectionAtStart(s);
  t.equal(seen.ticks, 8);
});

t.test('nothing once a leader is known', async (t) => {
  let leader = false;
  const { s, seen, up, transport } = side({ leader: () => leader });
  advanceElectionAtStart(s);
  leader = true;
  up(2);
  t.equal(seen.ticks, 0);
  t.equal(transport.listenerCount('up'), 0);
  const low = side({ myid: 1, leader: () => true });
  advanceElectionAtStart(low.s);
  low.up(2);
  t.equal(low.seen.campaigns, 0, 'the lowest id does not campaign against a known leader');
});

t.test('nothing after the window', async (t) => {
  const { s, seen, up } = side({ windowMs: 0 });
  advanceElectionAtStart(s);
  await new Promise((r) => setTimeout(r, 5));
  up(2);
  t.equal(seen.ticks, 0);
  const low = side({ myid: 1, windowMs: 0 });
  advanceElectionAtStart(low.s);
  await new Promise((r) => setTimeout(r, 5));
  low.up(2);
  t.equal(low.seen.campaigns, 0);
});

t.test('nothing for an observer, a lone voter or an election timeout of 2 ticks or less', async (t) => {
  for (const o of [{ myid: 1, voters: [2, 3, 4] }, { myid: 1, voters: [1] }, { electionTicks: 2 }, { myid: 1, electionTicks: 2 }]) {
    const { s, seen, up, transport } = side(o);
    advanceElectionAtStart(s);
    up(2);
    up(3);
    t.same([seen.ticks, seen.campaigns], [0, 0], JSON.stringify(o));
    t.equal(transport.listenerCount('up'), 0, JSON.stringify(o));
  }
});

t.test('the stop it returns removes the listener', async (t) => {
  const { s, seen, up, transport } = side({ voters: [1, 2, 3, 4, 5] });
  const stop = advanceElectionAtStart(s);
  stop();
  t.equal(transport.listenerCount('up'), 0);
  up(1);
  up(2);
  t.same([seen.ticks, seen.campaigns], [0, 0]);
});
