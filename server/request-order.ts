// One connection's requests are carried out in the order they were sent. An HTTP/1.1 client may pipeline (send
// requests without waiting for answers), and Node hands each request to the server as soon as it is parsed: a read
// sent after a write on the same connection could run before the write had committed and answer from the state
// before it, although its answer comes after the write's. ZooKeeper carries out one client's requests in order, and
// HTTP lets a server run pipelined requests side by side only when all of them are safe (RFC 9112 §9.3.2). So a
// request waits while an earlier one on its connection is unanswered, unless both it and every unanswered one are
// reads (GET, HEAD). A client that waits for each answer, as nearly all do, never waits here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Run = (req: IncomingMessage, res: ServerResponse) => void;

/** What a connection has started and not yet answered, and what waits behind it. */
interface Order {
  running: number;
  /** Of `running`, the ones that are not reads. */
  writes: number;
  waiting: { req: IncomingMessage; res: ServerResponse; run: Run }[];
  /** Runs once nothing is running or waiting (see whenIdle). */
  idle?: () => void;
  /** Whether a close listener drops `waiting` (added the first time a request waits). */
  watched?: boolean;
  /** The newest request read on the connection, and whether it has been answered. */
  last?: IncomingMessage;
  lastAnswered?: boolean;
}

const ORDER = Symbol('zkgate.order');
/** On a response whose request was started here: whether it was a write. */
const STARTED = Symbol('zkgate.started');

type OrderedSocket = Socket & { [ORDER]?: Order };
type StartedResponse = ServerResponse & { [STARTED]?: 'read' | 'write' };

function isRead(req: IncomingMessage): boolean {
  return req.method === 'GET' || req.method === 'HEAD';
}

function orderOf(sock: OrderedSocket): Order {
  let o = sock[ORDER];
  if (!o) {
    o = { running: 0, writes: 0, waiting: [] };
    sock[ORDER] = o;
  }
  return o;
}

/** Whether `req` may run beside what is running: nothing is, or all of it and `req` are reads. */
function mayRun(o: Order, req: IncomingMessage): boolean {
  return o.running === 0 || (o.writes === 0 && isRead(req));
}

function start(o: Order, req: IncomingMessage, res: ServerResponse, run: Run): void {
  const write = !isRead(req);
  (res as StartedResponse)[STARTED] = write ? 'write' : 'read';
  o.running++;
  if (write) o.writes++;
  run(req, res);
}

/** Runs `run(req, res)` now, or once what it must follow on its connection has been answered. */
export function startInOrder(req: IncomingMessage, res: ServerResponse, run: Run): void {
  const sock = req.socket as OrderedSocket;
  const o = orderOf(sock);
  o.last = req;
  o.lastAnswered = false;
  if (o.waiting.length === 0 && mayRun(o, req)) return start(o, req, res, run);
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
  if (started === 'write') o.writes--;
  if (res.req === o.last) o.lastAnswered = true;
  while (o.waiting.length > 0 && !sock.destroyed) {
    const next = o.waiting[0] as Order['waiting'][number];
    if (!mayRun(o, next.req)) break;
    o.waiting.shift();
    start(o, next.req, next.res, next.run);
  }
  if (o.idle && idle(o)) {
    const fn = o.idle;
    o.idle = undefined;
    fn();
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
