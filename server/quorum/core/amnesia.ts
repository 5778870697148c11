// A voter that starts with an empty log (no entry, no snapshot) cannot tell whether it is new or lost its disk.
// Raft assumes a voter keeps what it acknowledged: one that lost its disk may have acknowledged entries that only it
// and the old leader held, and its vote could elect a candidate without them, which would then erase them everywhere.
// So until it has caught up it is careful:
//  - before any leader reached it, it votes only for a candidate with an empty log too (the ensemble's first
//    election, or every disk lost: nothing to protect);
//  - once a leader of term T reached it, showing its last index C, the ensemble has a history: it votes only for a
//    candidate whose log is at least as up to date as a log ending at (index C, term T), which holds everything
//    that leader had, so everything committed (not the leader's commit index: a new leader's lags the true one),
//    and it never campaigns itself (its own log lacks that);
//  - it is caught up once its log reaches C (and is not empty: a leader existed), and votes as any member from then on.
// Not membership change: a disk lost during the very first election, two empty members no leader has reached (two
// lost disks, or one and a member down since the first start; what they then start is another history, which the
// member that kept the data refuses: history.ts), or an acknowledgement counted just after the disk was lost, can
// still defeat it; it closes the case an operator meets, a member re-provisioned with the same id.

/** Where a catching-up node stands: not yet reached by a leader, or the (last index, term) the first one showed. */
export type CatchUp = 'unheard' | { index: number; term: number };

export class Amnesia {
  private state: CatchUp | null;

  constructor(emptyLog: boolean, resumed: CatchUp | null) {
    this.state = resumed ?? (emptyLog ? 'unheard' : null);
  }

  /**
   * The state as last changed, without asking whether `lastIndex` reached the target: what the host must make
   * durable before the entries that may reach it (a crash between them must not leave entries and no target).
   */
  recorded(): CatchUp | null {
    return this.state;
  }

  /** null once caught up (or never empty); the state the host keeps across a restart otherwise. */
  current(lastIndex: number): CatchUp | null {
    const s = this.state;
    // A leader existed: an empty log is not caught up even where nothing was committed yet (it holds its noop).
    if (s !== null && s !== 'unheard' && lastIndex >= Math.max(s.index, 1)) this.state = null;
    return this.state;
  }

  /** A leader's append in `term` shows how far its log reaches: the first one fixes the target. */
  heard(leaderLast: number, term: number): void {
    if (this.state === 'unheard') this.state = { index: leaderLast, term };
  }

  /** Won an election: only voters with logs no longer than its own voted, so nobody had anything to protect. */
  end(): void {
    this.state = null;
  }

  grants(candidateIndex: number, candidateLogTerm: number, lastIndex: number): boolean {
    const s = this.current(lastIndex);
    if (s === null) return true;
    if (s === 'unheard') return candidateIndex === 0;
    return candidateLogTerm > s.term || (candidateLogTerm === s.term && candidateIndex >= s.index);
  }

  mayCampaign(lastIndex: number): boolean {
    const s = this.current(lastIndex);
    return s === null || s === 'unheard';
  }
}
