// A leader that stops gracefully first hands its leadership to the most up-to-date voter (Raft's leadership
// transfer, as etcd does on a graceful stop): the ensemble then has a leader again within a round trip, instead of
// refusing writes for an election timeout and an election. A rolling restart costs next to nothing that way.
import type { Logger } from 'pino';
import type { RawNode } from './core/index.js';

export interface HandOverSide {
  rawnode: RawNode;
  myid: number | undefined;
  /** The core abandons a transfer that takes longer than an election timeout; this waits twice that at most. */
  electionMs: number;
  log: Logger;
  leading(): boolean;
  leaderId(): number;
  term(): number;
  /** Has the engine handle the core's next Ready (the transfer's messages). */
  kick(): void;
}

/** Resolves once this leader has handed over, or gave up waiting; it is still leader then only if no one took it. */
export async function handOverLeadership(s: HandOverSide): Promise<void> {
  const voters = Object.entries(s.rawnode.status().progress ?? {})
    .map(([id, p]) => ({ id: Number(id), ...p }))
    .filter((p) => p.id !== s.myid && !p.learner)
    .sort((a, b) => Number(b.recentActive) - Number(a.recentActive) || b.match - a.match);
  const to = voters[0]?.id;
  if (to === undefined || !s.rawnode.transferLeadership(to).ok) return;
  s.log.info({ to, term: s.term() }, `stopping: handing leadership over to ${to}`);
  s.kick();
  const deadline = performance.now() + 2 * s.electionMs;
  while (s.leading() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  if (s.leading()) s.log.warn({ to }, 'stopping: the leadership handover did not complete; the others will elect a leader once this one is gone');
  else s.log.info({ leader: s.leaderId() || null, term: s.term() }, 'stopping: leadership handed over');
}
