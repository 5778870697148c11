// One connection's requests are carried out in the order they were sent. An HTTP/1.1 client may pipeline (send
// requests without waiting for answers), and Node hands each request to the server as soon as it is parsed: a read
// sent after a write on the same connection could run before the write had committed and answer from the state
// before it, although its answer comes after the write's. ZooKeeper carries out one client's requests in order, and
// HTTP lets a server run pipelined requests side by side only when all of them are safe (RFC 9112 §9.3.2), but their
// answers go out one after another anyway, and reads run side by side held every answer in memory at once: 1,300
// pipelined listings of a large node took GBs and stalled the node for minutes. So a connection's requests run one at
// a time, the next once the one before is answered and the connection has sent most of what it was given
// (PIPELINE_HIGH_WATER): a client that does not read its answers stops its own pipeline, no one else's. A client
// that waits for each answer, as nearly all do, never waits here.
//
// What a client does not take stays in its socket: a connection that takes none of its answers' bytes for the stall
// bound (httpRequestTimeoutMs, the same time a client has to send one request) is closed, so that connections that
// never read cannot each hold a megabyte of answers for as long as they stay open. WebSockets have the like bound
// (wsMaxBufferedBytes, a slow consumer is closed).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Run = (req: IncomingMessage, res: ServerResponse) => void;

/** How long a connection may take none of the answer bytes it was given, and who is told when it is closed for it. */
export interface StallBound {
  ms: number;
  onStall: (sock: Socket) => void;
}

/** What a connection has started and not yet answered, and what waits behind it. */
interface Order {
  running: number;
  waiting: { req: IncomingMessage; res: ServerResponse; run: Run }[];
  /** Runs once nothing is running or waiting (see whenIdle). */
  idle?: () => void;
  /** Whether a close listener drops `waiting` (added the first time a request waits). */
  watched?: boolean;
  /** The newest request read on the connection, and whether it has been answered. */
  last?: IncomingMessage;
  lastAnswered?: boolean;
  /** Waiting for the socket to drain before the next request starts. */
  draining?: boolean;
  stall?: StallBound;
  /** Armed while answer bytes wait in the socket (see watchStall). */
  stallTimer?: NodeJS.Timeout;
}

const ORDER = Symbol('zkgate.order');
/** Unsent answer bytes on a connection past which its next pipelined request waits for the socket to drain. */
export const PIPELINE_HIGH_WATER = 1 << 20;
/** On a response whose request was started here. */
const STARTED = Symbol('zkgate.started');

type OrderedSocket = Socket & { [ORDER]?: Order };
type StartedResponse = ServerResponse & { [STARTED]?: true };

function orderOf(sock: OrderedSocket): Order {
  let o = sock[ORDER];
  if (!o) {
    o = { running: 0, waiting: [] };
    sock[ORDER] = o;
  }
  return o;
}

/** Whether the connection's next request may start: nothing of it is running or waiting for its answers to drain. */
function mayRun(o: Order): boolean {
  return o.running === 0 && !o.draining;
}

function start(o: Order, req: IncomingMessage, res: ServerResponse, run: Run): void {
  (res as StartedResponse)[STARTED] = true;
  o.running++;
  if (o.stall && !o.stallTimer) watchStall(req.socket, o);
  run(req, res);
}

/** Runs `run(req, res)` now, or once what it must follow on its connection has been answered. */
export function startInOrder(req: IncomingMessage, res: ServerResponse, run: Run, stall?: StallBound): void {
  const sock = req.socket as OrderedSocket;
  const o = orderOf(sock);
  o.stall = stall;
  o.last = req;
  o.lastAnswered = false;
  if (o.waiting.length === 0 && mayRun(o)) return start(o, req, res, run);
  o.waiting.push({ req, res, run });
  if (o.watched) return;
  o.watched = true;
  // A connection gone with requests still waiting: they can no longer be answered, and are dropped with it.
  sock.once('close', () => {
    o.waiting.length = 0;
    o.idle = undefined;
  });
}

/** Told of every finished answer (the throttle's ServerResponse): starts what was waiting for it. */
export function answeredInOrder(sock: Socket, res: ServerResponse): void {
  const started = (res as StartedResponse)[STARTED];
  const o = (sock as OrderedSocket)[ORDER];
  if (started === undefined || !o) return;
  o.running--;
  if (res.req === o.last) o.lastAnswered = true;
  if (o.waiting.length > 0 && !sock.destroyed && sock.writableLength > PIPELINE_HIGH_WATER && !o.draining) {
    o.draining = true;
    sock.once('drain', () => {
      o.draining = false;
      startWaiting(sock, o);
    });
  }
  startWaiting(sock, o);
  if (o.idle && idle(o)) {
    const fn = o.idle;
    o.idle = undefined;
    fn();
  }
}

/** Bytes the socket has handed to the kernel: bytesWritten counts what it still holds as well. */
function sent(sock: Socket): number {
  return sock.bytesWritten - sock.writableLength;
}

/**
 * Closes the connection if, for the stall bound, answer bytes wait in it and the client takes none of them. Watched
 * from a request's start while any request runs or bytes wait: an answer's `finish` (which answeredInOrder hears)
 * comes only once its bytes have left the socket, so a stuck answer is never heard of there.
 */
function watchStall(sock: Socket, o: Order): void {
  const stall = o.stall;
  if (!stall || stall.ms <= 0) return;
  let before = sent(sock);
  const arm = () => {
    o.stallTimer = setTimeout(check, stall.ms).unref();
  };
  const check = () => {
    o.stallTimer = undefined;
    if (sock.destroyed) return;
    const now = sent(sock);
    if (sock.writableLength > 0 && now === before) {
      sock.destroy();
      stall.onStall(sock);
      return;
    }
    if (sock.writableLength === 0 && o.running === 0) return;
    before = now;
    arm();
  };
  arm();
}

function startWaiting(sock: Socket, o: Order): void {
  while (o.waiting.length > 0 && !sock.destroyed && mayRun(o)) {
    const next = o.waiting.shift() as Order['waiting'][number];
    start(o, next.req, next.res, next.run);
  }
}

/**
 * Runs `fn` once every request read on `sock` so far has been answered: at once if none is open. The answer to a
 * request Node could not parse goes after the answers to the requests before it, or it would be read as theirs.
 */
export function whenIdle(sock: Socket, fn: () => void): void {
  const o = (sock as OrderedSocket)[ORDER];
  if (!o || idle(o)) fn();
  else o.idle = fn;
}

/**
 * Whether every request read on the connection has been answered, but for the newest if its body never came whole:
 * that one cannot be answered (an unreadable body, a request not received in time), and its error is the answer.
 */
function idle(o: Order): boolean {
  const open = o.running + o.waiting.length;
  return open === 0 || (open === 1 && o.last !== undefined && !o.last.complete && !o.lastAnswered);
}
