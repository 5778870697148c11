// The per-connection bound on requests read and not yet answered. An HTTP/1.1 client may pipeline: send any number
// of requests on one connection without waiting for answers, and Node hands every request in what it has read to the
// handlers at once. Unbounded, one such connection could fill the write queue (maxPendingWrites) or the blocking-read
// quota (maxBlockingReads) that every other client shares, and they would get the 503s. ZooKeeper stops reading from
// a connection whose requests pile up rather than failing them; so does this: past maxPendingPerConnection the
// connection is no longer read from until half of them are answered, and TCP holds the rest back in the client.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

const PENDING = Symbol('zkgate.pending');
const THROTTLED = Symbol('zkgate.throttled');

/**
 * `_paused` is Node's own flag for a connection it stopped reading (its back-pressure when answers to pipelined
 * requests queue up): it also pauses the parser once the current read is parsed, and checks the flag before reading
 * again. Using the same flag keeps the two pauses from fighting: whichever resumes first, the next request read
 * re-pauses if its bound still holds.
 */
interface HttpSocket extends Socket {
  _paused?: boolean;
  parser?: { resume(): void } | null;
  [PENDING]?: number;
  [THROTTLED]?: boolean;
}

/** Requests read on `sock` and not yet answered (`cons`' `outstanding`, ZooKeeper's `queued`). */
export function pendingOn(sock: Socket): number {
  return (sock as HttpSocket)[PENDING] ?? 0;
}

export class ConnectionThrottle {
  /** Times a connection went past the bound and was no longer read from (zkgate_connections_throttled_total). */
  throttled = 0;
  /** The ServerResponse class for the HTTP server: it counts each answer as Node finishes it. */
  readonly ServerResponse: typeof ServerResponse<IncomingMessage>;

  /** `limit` 0: counted (for `cons`), never throttled. */
  constructor(
    readonly limit: number,
    private readonly onThrottle: (sock: Socket) => void,
  ) {
    const answered = (s: HttpSocket) => this.answered(s);
    // Node calls detachSocket once per request, when its answer is finished: the one place every answer passes,
    // whether a route, a fast path or fastify's own error reply wrote it. A connection that closes first has nothing
    // left to resume.
    this.ServerResponse = class extends ServerResponse {
      override detachSocket(socket: Socket): void {
        answered(socket as HttpSocket);
        super.detachSocket(socket);
      }
    };
  }

  /** Every request, as Node hands it over (inside its parse of a read, before any handler runs). */
  received(req: IncomingMessage): void {
    const s = req.socket as HttpSocket;
    const n = (s[PENDING] ?? 0) + 1;
    s[PENDING] = n;
    if (this.limit === 0 || n <= this.limit || s._paused) return;
    s._paused = true;
    s.pause();
    if (!s[THROTTLED]) {
      s[THROTTLED] = true;
      this.throttled++;
      this.onThrottle(s);
    }
  }

  private answered(s: HttpSocket): void {
    const n = (s[PENDING] ?? 1) - 1;
    s[PENDING] = n;
    // Half, so that a client pipelining without end is read in runs rather than one read per answer. At least one:
    // the last request read may still be waiting for the rest of its body, which only reading again brings (every
    // earlier one was read whole before it, so each can be answered).
    if (!s[THROTTLED] || n > Math.max(1, Math.floor(this.limit / 2))) return;
    s[THROTTLED] = false;
    if (s._paused && !s.destroyed) {
      s._paused = false;
      s.parser?.resume();
      s.resume();
    }
  }
}
