// Where the server's log lines go: stdout, written synchronously a line at a time, never able to hang the process.
// pino's default destination writes asynchronously and, at exit, flushes what is pending with a loop that retries
// every failed write for ever, EPIPE included: a node whose stdout reader had gone (a test runner killed, a log
// shipper or `| tee` that died) and that exited with a line pending never exited (seen after a CI timeout).
import { writeSync } from 'node:fs';

/** How long one line may wait for a full stdout pipe before it is dropped (a stalled reader must not stall us). */
export const LOG_STALL_MS = 1000;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Lines dropped by every destination of this process: a count an operator can alert on (the log cannot say it). */
let droppedInProcess = 0;

export function logLinesDropped(): number {
  return droppedInProcess;
}

export interface LogDestination {
  write(line: string): void;
  /** Lines not written: the pipe stayed full for LOG_STALL_MS, or its reader is gone (then every later line). */
  readonly dropped: number;
}

export function stdoutDestination(fd = 1): LogDestination {
  let closed = false;
  let dropped = 0;
  // Set once a line waited LOG_STALL_MS in vain: the reader has stalled, and each later line that finds the pipe still
  // full is dropped at once instead of waiting its own second (a burst of lines would freeze the node a second
  // each). Cleared by the first line that goes out.
  let stalled = false;
  const drop = () => {
    dropped++;
    droppedInProcess++;
  };
  return {
    get dropped() {
      return dropped;
    },
    write(line: string): void {
      if (closed) {
        drop();
        return;
      }
      let buf = Buffer.from(line, 'utf8');
      let waitedMs = 0;
      const whole = buf.length;
      while (buf.length > 0) {
        try {
          buf = buf.subarray(writeSync(fd, buf));
          stalled = false;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          const full = code === 'EAGAIN' || code === 'EBUSY';
          // A line begun is finished (a torn line would garble the next); one not begun waits only if the reader
          // has not already stalled.
          const begun = buf.length < whole;
          if (full && waitedMs < LOG_STALL_MS && (begun || !stalled)) {
            Atomics.wait(sleeper, 0, 0, 10);
            waitedMs += 10;
            continue;
          }
          // EPIPE and the like: nobody will read this fd again.
          if (!full) closed = true;
          else stalled = true;
          drop();
          return;
        }
      }
    },
  };
}
