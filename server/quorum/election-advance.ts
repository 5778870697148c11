// A starting member campaigns soon after it can reach a quorum instead of a whole election timeout after it started,
// as etcd does at boot (its --initial-election-tick-advance): once enough voters are linked to elect anyone, its
// election clock is moved on by electionTicks - 2 ticks, which leaves 2 to 1 + electionTicks ticks before it stands
// (the randomized timeout is electionTicks … 2 × electionTicks - 1), so that members started together still differ.
// A whole ensemble restarted at once otherwise waited 500–1,000 ms (the default 10 ticks of 50 ms) after its
// members were up. It disturbs no one: with pre-vote and check-quorum a member that already follows a leader
// refuses the pre-vote, and the newcomer then hears that leader's heartbeat.
//
// One of them does not wait at all: the voter with the lowest id among those linked (itself included) campaigns at
// once, as ZooKeeper's election settles on an order instead of a timeout. Only one member can be that at a time, so
// it meets no rival candidate unless the others' clocks run out first (2 ticks at the soonest); if its log is behind,
// the others refuse its pre-vote and theirs run out as before. Three members restarted together chose a leader
// 100–550 ms after linking with the random wait alone (ensemble-tree, session 22).
import type { EventEmitter } from 'node:events';

export interface ElectionAdvanceSide {
  /** Emits 'up' with a peer's id when a link to it is ready, and says which links are. */
  transport: Pick<EventEmitter, 'on' | 'off'> & { isConnected(id: number): boolean };
  myid: number;
  voters: readonly number[];
  electionTicks: number;
  /** True once this node has heard of a leader (then there is nothing to hurry). */
  leaderKnown(): boolean;
  /** One tick of the core's clock, and nothing else the engine's tick does. */
  tick(): void;
  /** Starts a (pre-)election now. */
  campaign(): void;
  /** After the ticks, so that anything they produced is handled. */
  kick(): void;
  /** How long after start the advance may still happen (etcd waits up to its 5-s connection timeout). */
  windowMs: number;
}

/** Ticks the core's clock forward once, when a quorum of voters (this one among them) is linked. Returns a stop. */
export function advanceElectionAtStart(s: ElectionAdvanceSide): () => void {
  if (!s.voters.includes(s.myid) || s.voters.length < 2 || s.electionTicks <= 2) return () => {};
  const quorum = Math.floor(s.voters.length / 2) + 1;
  const deadline = performance.now() + s.windowMs;
  const check = () => {
    if (performance.now() > deadline || s.leaderKnown()) return stop();
    const linked = s.voters.filter((id) => id !== s.myid && s.transport.isConnected(id));
    if (linked.length + 1 < quorum) return;
    stop();
    if (linked.every((id) => id > s.myid)) s.campaign();
    else for (let i = 0; i < s.electionTicks - 2; i++) s.tick();
    s.kick();
  };
  const stop = () => s.transport.off('up', check);
  s.transport.on('up', check);
  check();
  return stop;
}
