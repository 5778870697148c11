// How long a member has been without a leader, and whether it must catch up before it serves reads again. A member
// that finds a leader after being cut off for longer than syncLimit × tickTime (or after starting) may hold a tree far
// behind; it stays "behind" until it has applied what the leader had committed by then (a read index), as
// ZooKeeper's followers sync with their leader before they serve clients.
import type { Logger } from 'pino';

export class LeaderContact {
  /** When this node last stopped knowing a leader; undefined while it knows one. At start: never had one. */
  private leaderlessSince: number | undefined = -Infinity;
  private behind = true;
  private running = false;
  /** Counts the spells that set `behind`, so that a catch-up begun in an earlier one cannot end a later one. */
  private spell = 0;

  /**
   * @param windowMs syncLimit × tickTime, as configured now
   * @param syncWithLeader a read index from the leader, once this node has applied up to it; its zxid
   */
  constructor(
    private readonly windowMs: () => number,
    private readonly syncWithLeader: () => Promise<number>,
    private readonly log: Logger,
  ) {}

  get catchingUp(): boolean {
    return this.behind;
  }

  get leaderlessMs(): number {
    return this.leaderlessSince === undefined ? 0 : performance.now() - this.leaderlessSince;
  }

  /** The known leader changes from `from` to `to` (0: none). True when a catch-up should start at once. */
  leaderChanged(from: number, to: number): boolean {
    if (to === 0) {
      if (from !== 0) this.leaderlessSince = performance.now();
      return false;
    }
    if (this.leaderlessMs > this.windowMs()) {
      this.behind = true;
      this.spell++;
    }
    this.leaderlessSince = undefined;
    return this.behind;
  }

  /**
   * The node did not run for `ms` (stopped, paused, its event loop held up): long enough for a new leader to have
   * been elected and the ensemble to have moved on without it, and nothing it received yet says so. It serves no reads
   * until it has caught up with a leader again, as after a leaderless spell.
   */
  stalled(ms: number): void {
    if (!this.behind) this.log.warn({ stalledMs: Math.round(ms) }, 'this node did not run for a while: it serves no reads until it has caught up with the leader');
    this.behind = true;
    this.spell++;
  }

  /** Starts a catch-up when one is needed and none runs; the caller knows a leader and is not installing. */
  start(): void {
    if (this.behind && !this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    const spell = this.spell;
    try {
      const zxid = await this.syncWithLeader();
      if (spell !== this.spell) return;
      this.behind = false;
      this.log.info({ zxid }, 'caught up with the leader; serving reads');
    } catch {
      // No leader any more, or it did not answer in time: the next tick with a leader tries again.
    } finally {
      this.running = false;
    }
  }
}
