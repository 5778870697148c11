// Warnings a client or a stranger can cause over and over (refused connections, a peer port's garbage): written at
// most once per interval, so that a loop cannot flood the log.

/** At most one log line per this interval while connections are refused (maxCnxns, maxClientCnxns) or throttled. */
export const CONNECTION_WARN_EVERY_MS = 10_000;

/**
 * Runs the log call it is given at most once per `ms`; `skipped` tells it how many calls were dropped since the last
 * one that ran.
 */
export function onceEvery(ms: number): (log: (skipped: number) => void) => void {
  let at = -Infinity;
  let skipped = 0;
  return (log) => {
    if (performance.now() - at < ms) {
      skipped++;
      return;
    }
    at = performance.now();
    log(skipped);
    skipped = 0;
  };
}
