// The per-connection bound on requests read and not yet answered. An HTTP/1.1 client may pipeline: send any number
// of requests on one connection without waiting for answers, and Node hands every request in what it has read to the
// handlers at once. Unbounded, one such connection could fill the write queue (maxPendingWrites) or the blocking-read
// quota (maxBlockingReads) that every other client shares, and they would get the 503s. ZooKeeper stops reading from
// a connection whose requests pile up rather than failing them; so does this: past maxPendingPerConnection the
// connection is not read from until its unanswered requests are down to half that, and TCP holds the rest back.
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

const PENDING = Symbol('zkgate.pending');
const THROTTLED = Symbol('zkgate.throttled');
/**
 * On an answer whose request was counted: Node may answer a request itself without handing it over (a bare 417 for
 * an unknown Expect when no checkExpectation listener is set; app.ts sets one).
 */
const COUNTED = Symbol('zkgate.counted');

/**
 * Reading is stopped at the socket's handle, below Node's HTTP parser, which goes on parsing what it already has.
 * Node's own pause (a paused parser, its back-pressure when answers queue up) is left to Node: it resumes on its own
 * terms, and restarts a handle marked as not reading when it does, which the next request past the bound undoes.
 */
interface HttpSocket extends Socket {
  /**
   * Set on TLS connections, which are counted but not held back: Node 20's HTTPS server fails a connection whose
   * bytes arrive while its own back-pressure has the parser paused (HPE_PAUSED; it happens without this bound too,
   * to a client that keeps pipelining while answers queue up), and holding reads back makes that arrival likelier.
   */
  encrypted?: boolean;
  /** `reading`: net.Socket's own record of whether it started the handle; it starts one marked false on resume. */
  _handle?: { reading: boolean; readStop(): number; readStart(): number } | null;
  /** Node's flag for its own pause: set with the parser paused, cleared when it resumes both. */
  _paused?: boolean;
  [PENDING]?: number;
  [THROTTLED]?: boolean;
}

function stopReading(s: HttpSocket): void {
  const h = s._handle;
  if (!h) return;
  h.reading = false;
  h.readStop();
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

  /** `limit` 0: counted (for `cons`), never throttled. `onAnswer`: told of every answer finished (request-order.ts). */
  constructor(
    readonly limit: number,
    private readonly onThrottle: (sock: Socket) => void,
    onAnswer: (sock: Socket, res: ServerResponse) => void = () => {},
  ) {
    const answered = (s: HttpSocket) => this.answered(s);
    // Node calls detachSocket once per request, when its answer is finished: the one place every answer passes,
    // whether a route, a fast path or fastify's own error reply wrote it. A connection that closes first has nothing
    // left to resume.
    this.ServerResponse = class extends ServerResponse {
      declare [COUNTED]?: boolean;
      override detachSocket(socket: Socket): void {
        if (this[COUNTED]) answered(socket as HttpSocket);
        onAnswer(socket, this);
        super.detachSocket(socket);
      }
    };
  }

  /** Every request Node hands to the server's listener (inside its parse of a read, before any handler runs). */
  received(req: IncomingMessage, res: ServerResponse): void {
    (res as ServerResponse & { [COUNTED]?: boolean })[COUNTED] = true;
    const s = req.socket as HttpSocket;
    const n = (s[PENDING] ?? 0) + 1;
    s[PENDING] = n;
    if (this.limit === 0 || n <= this.limit || s.encrypted === true) return;
    // Again on every request past the bound: Node's own back-pressure may have started reading again meanwhile.
    stopReading(s);
    if (s[THROTTLED]) return;
    s[THROTTLED] = true;
    this.throttled++;
    this.onThrottle(s);
  }

  private answered(s: HttpSocket): void {
    const n = (s[PENDING] as number) - 1;
    s[PENDING] = n;
    // Half, so that a client pipelining without end is read in runs rather than one read per answer. At least one:
    // the last request read may still be waiting for the rest of its body, which only reading again brings (every
    // earlier one was read whole before it, so each can be answered).
    if (!s[THROTTLED] || n > Math.max(1, Math.floor(this.limit / 2))) return;
    s[THROTTLED] = false;
    // While Node holds its own pause (its parser paused), bytes read now would reach the paused parser; Node starts
    // reading again itself when it resumes, since the handle is marked as not reading.
    const h = s._handle;
    if (h && !s.destroyed && !s._paused) {
      h.reading = true;
      h.readStart();
    }
  }
}
