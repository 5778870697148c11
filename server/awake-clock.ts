// The node's clock for client silence: monotonic, and without the time the node did not run (SIGSTOP, a VM paused by
// its host, a long pause of the process, an event loop held up). When it runs again, libuv runs its due timers before it
// reads the sockets, so a session's expiry or a WebSocket's ping check would see the keepalives and pongs that wait
// there as silence. Every reader of this clock sees that time left out, whichever timer looks first: a heartbeat
// observes the clock every interval while the node runs, so a longer gap between two observations is a stall, and the
// first observation after it accounts for it.

import type { Logger } from 'pino';

/** A gap this much past the heartbeat's interval is a stall (or a whole interval, when that is shorter). */
export const STALL_MS = 500;

/** The node's warning of a stall, from STALL_MS on (shorter ones, at a short tickTime, are only counted). */
export function warnOfStall(log: () => Logger): (ms: number) => void {
  return (ms) => {
    if (ms >= STALL_MS) log().warn({ stalledMs: Math.round(ms) }, 'this node did not run for a while (stopped, paused, or its event loop held up); that time counts against no session');
  };
}

export class AwakeClock {
  private last: number;
  private skipped = 0;
  private intervalMs = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Stalls found since start (zkgate_stalls_total). */
  stalls = 0;

  /** `base`: the monotonic clock (a test gives its own); `onStall`: told each stall's length. */
  constructor(
    private readonly onStall: (ms: number) => void = () => {},
    private readonly base: () => number = () => performance.now(),
  ) {
    this.last = base();
  }

  /** Observes the clock every `intervalMs` from now on: before this, nothing counts as a stall (start-up runs first). */
  start(intervalMs: number): void {
    this.intervalMs = intervalMs;
    this.last = this.base();
    this.heartbeat = setInterval(() => this.now(), intervalMs);
    this.heartbeat.unref();
  }

  stop(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Milliseconds the node has run for, on a monotonic base. */
  now(): number {
    const t = this.base();
    if (this.heartbeat !== undefined) {
      const late = t - this.last - this.intervalMs;
      if (late >= Math.min(STALL_MS, this.intervalMs)) {
        this.skipped += late;
        this.stalls++;
        this.onStall(late);
      }
    }
    this.last = Math.max(this.last, t);
    return t - this.skipped;
  }

  /** The stalls' time in all (zkgate_stalled_seconds_total). */
  get stalledMs(): number {
    return this.skipped;
  }
}
