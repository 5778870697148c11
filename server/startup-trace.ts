// Where a starting server is, told in its log. A member restarted during a fault test once hung without writing a
// single line (docs/jepsen.md, seed 12003), so nobody could tell whether it stalled opening LMDB, reading its log or
// binding a port. Now start-up opens with a line naming the process and logs each step as it begins (about ten lines,
// once), and a start that takes longer than STARTUP_SLOW_MS says which step it is in, again every STARTUP_SLOW_MS
// until it serves. If even that warning never comes, the event loop is blocked inside the step the last line names.
import type { Logger } from 'pino';

/** How long a start may take before the server warns which step it is in (repeated at this interval). */
export const STARTUP_SLOW_MS = 10_000;

export type StartupStep = (step: string) => void;

export class StartupTrace {
  private step = 'starting';
  private readonly since = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    everyMs: number = STARTUP_SLOW_MS,
  ) {
    this.timer = setInterval(() => {
      const elapsedMs = Math.round(performance.now() - this.since);
      this.log.warn({ step: this.step, elapsedMs }, `still starting after ${elapsedMs} ms: ${this.step}`);
    }, everyMs);
    this.timer.unref();
  }

  /** Enters a step; a bound function, to be handed to the parts that run the steps. */
  readonly at: StartupStep = (step) => {
    this.step = step;
    this.log.info({ step }, `starting: ${step}`);
  };

  done(): void {
    clearInterval(this.timer);
  }
}
