// One /v1/watch WebSocket: reads client frames in order (watch, resume, unwatch, session, ping), writes replies and events
// through a bounded buffer (a slow reader is closed with 1008), and keeps a bound session alive while it answers pings.
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { SYSTEM_ERROR_BODY, ZkError } from '../server/errors.js';
import { validatePath } from '../server/tree/paths.js';
import type { AuthId } from '../server/tree/types.js';
import type { ZkNode } from '../server/node.js';
import { DeliveredEvents, type EventId } from '../server/watches/delivered.js';
import { eventFrame, type WatchHub, type WatchSink } from '../server/watches/hub.js';
import type { WatchKind } from '../server/watches/registry.js';
import { PingRequest, ResumeRequest, SessionRequest, UnwatchRequest, WatchRequest } from '../openapi/watch-schemas.js';
import { sessionIdOf } from '../server/sessions/session-id.js';
import { check, describeOp, frameId, NO_WATCHER, watchReply, zxidOf, type FrameId } from './watch-frames.js';
import { ResumeBatch, type ResumeFrame } from './watch-resume.js';

/**
 * What a queued frame counts towards wsMaxBufferedBytes beyond its own bytes (about what holding it costs): 1 MiB then
 * holds at most 4,096 frames, however small.
 */
export const QUEUED_FRAME_COST = 256;
const KNOWN_OPS = new Set(['watch', 'resume', 'unwatch', 'session', 'ping']);
/** Frames one connection's queue hands to their handlers in one turn of the event loop. */
const FRAMES_PER_TURN = 256;
/**
 * And the time they may take: a frame may cost much (a children listing of a large node), and 256 such frames in one
 * turn held every other client for seconds. Past this, the rest wait for the next turn.
 */
const TURN_BUDGET_MS = 5;

/** 'defer': retry the frame after the next commit; 'pending': a wake-up is already arranged (catchUp). */
type Handled = 'done' | 'defer' | 'pending';

let nextId = 1;

export class WatchConnection implements WatchSink {
  readonly id = `ws-${nextId++}`;
  readonly openedAt = Date.now();
  sessionId: string | null = null;
  readonly delivered: DeliveredEvents;
  /**
   * Frames received while an earlier one waits (deferred registration): handled in arrival order. `null` is a binary
   * frame, refused in its turn so that its error does not overtake an earlier frame's reply.
   */
  private readonly queue: { text: string | null; bytes: number; at: number }[] = [];
  private queuedBytes = 0;
  /** Index of the queue's first frame not yet handled (the array is cut back now and then, not shifted per frame). */
  private head = 0;
  private waiting = false;
  /** A pump is scheduled for the next turn (pump handles FRAMES_PER_TURN frames a turn). */
  private yielding = false;
  /**
   * This turn of the event loop's share so far: ws hands over each frame of a read as it parses it, and each arrival
   * pumps, so the bound must span the calls of one turn, not each call.
   */
  private turn: { started: number; frames: number } | null = null;
  /** The op of the frame being handled, for the connection's statistics ('unknown' for one that is not a known op). */
  private lastOp = 'unknown';
  private waitToken = 0;
  /** Cancels the wake-up a deferred frame left with the hub (see wait). */
  private cancelWake: (() => void) | undefined;
  /** The session a follower has just caught up for (awaitSession), and the error if it could not. */
  private caughtUp: { sid: string; error?: unknown } | null = null;
  private deferredAt = 0;
  /** The resume op's frames sent with more:true, held until the one that completes their batch. */
  private readonly resume: ResumeBatch<WatchConnection>;
  /** On the node's awake clock. */
  private lastSeen: number;
  private pingTimer: NodeJS.Timeout | undefined;
  private closed = false;
  framesIn = 0;
  framesOut = 0;

  constructor(
    private readonly ws: WebSocket,
    /** The upgraded socket under `ws`, for event frames framed once per event (see write). */
    private readonly socket: Duplex,
    readonly auth: AuthId[],
    readonly remoteAddress: string,
    private readonly hub: WatchHub<WatchConnection>,
    private readonly node: ZkNode,
    /** Told of each frame handled: its op, how long it took from arrival, the bound session (ConnectionRegistry.record). */
    private readonly record?: (op: string, latencyMs: number, sessionId: string | undefined) => void,
  ) {
    this.lastSeen = node.awake.now();
    this.delivered = new DeliveredEvents(node.cfg.wsMaxRememberedEvents);
    this.resume = new ResumeBatch(this, hub, node);
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => this.alive());
    ws.on('close', () => this.cleanup());
    ws.on('error', () => this.cleanup());
    this.schedulePing();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- WatchSink ----

  deliver(e: EventId, frame: Buffer): void {
    if (this.closed) return;
    try {
      this.delivered.record(e);
    } catch (err) {
      return this.fail(err);
    }
    this.write(frame, true);
  }

  sessionEnded(reason: 'closed' | 'expired'): void {
    this.sessionId = null;
    this.send({ type: 'session', state: reason });
    this.close(1000, `session ${reason}`);
  }

  /** Closes with `code`, stops all delivery at once, and cuts the socket if the close handshake takes too long. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.cleanup();
    // A close frame holds at most 123 bytes of reason; ws throws on a longer one, which would take the server down.
    while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
    this.ws.close(code, reason);
    setTimeout(() => this.ws.terminate(), this.node.cfg.wsCloseGraceMs).unref();
  }

  // ---- liveness ----

  /** Any pong or frame shows the client is there; only then does the bound session get touched. */
  private alive(): void {
    this.lastSeen = this.node.awake.now();
    if (this.sessionId) this.node.sessions.touch(this.sessionId);
  }

  private schedulePing(): void {
    clearTimeout(this.pingTimer);
    const timeoutMs = this.sessionId ? this.node.sessions.timeoutOf(this.sessionId) : undefined;
    // ZooKeeper's client pings after a third of the timeout of silence; we ping at that pace.
    const intervalMs = timeoutMs !== undefined ? Math.max(10, Math.floor(timeoutMs / 3)) : this.node.cfg.wsPingIntervalMs;
    this.pingTimer = setTimeout(() => {
      if (this.closed) return;
      // A silent bound connection simply stops touching its session (alive() only runs on an answer); the session
      // then expires and its event closes the connection, so a client that thaws learns why. An unbound one is cut.
      // Silence is on the awake clock: pongs that waited unread while the node was stopped are not silence.
      if (timeoutMs === undefined && this.node.awake.now() - this.lastSeen > 2 * intervalMs) {
        this.cleanup();
        this.ws.terminate();
        return;
      }
      this.ws.ping();
      this.schedulePing();
    }, intervalMs);
    this.pingTimer.unref();
  }

  // ---- frames in ----

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    this.framesIn++;
    this.alive();
    const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
    // Each frame costs its bytes and a fixed share, so that a flood of empty or tiny frames meets the bound too.
    const cost = bytes.length + QUEUED_FRAME_COST;
    this.queue.push({ text: isBinary ? null : bytes.toString('utf8'), bytes: cost, at: performance.now() });
    this.queuedBytes += cost;
    if (this.queuedBytes > this.node.cfg.wsMaxBufferedBytes) {
      this.close(1008, 'too many frames waiting to be handled');
      return;
    }
    this.safePump();
  }

  private safePump(): void {
    try {
      this.pump();
    } catch (e) {
      this.fail(e);
    }
  }

  /** A bug must cost this connection, never the server: pump runs in ws's socket handler, it and deliver in the commit path. */
  private fail(e: unknown): void {
    this.node.log.error({ err: e, connection: this.id }, 'watch connection failed');
    this.close(1011, 'internal error');
  }

  private pump(): void {
    // The scheduled pump takes what arrives meanwhile, in order.
    if (this.yielding) return;
    if (!this.turn) {
      this.turn = { started: performance.now(), frames: 0 };
      setImmediate(() => (this.turn = null));
    }
    const turn = this.turn;
    while (!this.waiting && !this.closed && this.head < this.queue.length) {
      if (turn.frames >= FRAMES_PER_TURN || (turn.frames > 0 && performance.now() - turn.started > TURN_BUDGET_MS)) {
        // Others' sockets and commits get their turn between batches of this connection's frames.
        if (!this.yielding) {
          this.yielding = true;
          setImmediate(() => {
            this.yielding = false;
            this.safePump();
          });
        }
        return;
      }
      turn.frames++;
      const { text, bytes, at } = this.queue[this.head] as { text: string | null; bytes: number; at: number };
      this.lastOp = 'unknown';
      const h = text === null ? this.binary() : this.handle(text);
      if (h === 'pending') return;
      if (h === 'defer') {
        this.wait();
        return;
      }
      // Handling may have closed the connection (slow consumer), which empties the queue.
      if (this.closed) return;
      this.record?.(this.lastOp, performance.now() - at, this.sessionId || undefined);
      this.head++;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      } else if (this.head >= 1024) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.queuedBytes -= bytes;
      this.deferredAt = 0;
    }
  }

  private binary(): Handled {
    this.sendError(null, new ZkError('MarshallingError', 'frames are JSON text; got a binary frame'));
    return 'done';
  }

  /**
   * Handles no frame until the next commit (or the ZK-Min-Zxid-style deadline), then retries the head frame. The socket
   * is still read meanwhile: its pongs keep a bound session alive (a client waiting on the server is not a silent one),
   * and frames that arrive queue up to wsMaxBufferedBytes (see onMessage).
   */
  private wait(): void {
    this.waiting = true;
    if (this.deferredAt === 0) this.deferredAt = performance.now();
    const token = ++this.waitToken;
    const wake = () => {
      if (token !== this.waitToken || this.closed) return;
      this.waitToken++;
      clearTimeout(timer);
      this.cancelWake?.();
      this.cancelWake = undefined;
      this.waiting = false;
      this.safePump();
    };
    const timer = setTimeout(wake, this.node.cfg.minZxidWaitMs);
    timer.unref();
    this.cancelWake = this.hub.afterNextCommit(wake);
  }

  /** Handles no frame until `p` settles (reading goes on, as in wait), then retries the head frame with `caughtUp` set for `sid`. */
  private catchUp(sid: string, p: Promise<unknown>): void {
    this.waiting = true;
    const token = ++this.waitToken;
    const wake = (error?: unknown) => {
      if (token !== this.waitToken || this.closed) return;
      this.waitToken++;
      this.caughtUp = { sid, error };
      this.waiting = false;
      this.safePump();
    };
    p.then(
      () => wake(),
      (e: unknown) => wake(e ?? new Error('catch-up failed')),
    );
  }

  private handle(text: string): Handled {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.sendError(null, new ZkError('MarshallingError', 'frame is not valid JSON'));
      return 'done';
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.sendError(null, new ZkError('MarshallingError', 'frame must be a JSON object'));
      return 'done';
    }
    const m = msg as Record<string, unknown>;
    const id = frameId(m.id);
    this.lastOp = typeof m.op === 'string' && KNOWN_OPS.has(m.op) ? m.op : 'unknown';
    try {
      switch (m.op) {
        case 'watch':
          check(WatchRequest, m);
          return this.opWatch(id, m as { path: string; kind: WatchKind; sinceZxid?: string | number; encoding?: string });
        case 'resume':
          check(ResumeRequest, m);
          if (m.more === true) {
            this.send({ id, ok: true, held: this.resume.hold(m as ResumeFrame, Buffer.byteLength(text)) });
            return 'done';
          }
          return this.opResume(id, m as ResumeFrame);
        case 'unwatch':
          check(UnwatchRequest, m);
          this.opUnwatch(id, m as { path: string; kind: WatchKind });
          return 'done';
        case 'session':
          check(SessionRequest, m);
          return this.opSession(id, String(m.sessionId));
        case 'ping':
          check(PingRequest, m);
          this.send({ id, ok: true, zxid: String(this.node.appliedZxid) });
          return 'done';
        default:
          throw new ZkError('Unimplemented', `unknown op ${describeOp(m.op)} (watch, resume, unwatch, session, ping)`);
      }
    } catch (e) {
      if (e instanceof ZkError) this.sendError(id, e);
      else {
        this.node.log.error({ err: e, connection: this.id }, 'watch frame failed');
        this.send({ id, ok: false, ...SYSTEM_ERROR_BODY });
      }
      return 'done';
    }
  }

  /** sinceZxid as a number, undefined when absent; throws when this node has waited too long to reach it. */
  private sinceOf(raw: string | number | undefined): number | undefined {
    return raw === undefined ? undefined : this.reachable(zxidOf(raw));
  }

  /** `since`, once this node has applied it or may still wait for it; throws when it has waited too long. */
  private reachable(since: number): number {
    if (since > this.node.appliedZxid && performance.now() - (this.deferredAt || performance.now()) >= this.node.cfg.minZxidWaitMs) {
      throw new ZkError('ConnectionLoss', `this node has not reached zxid ${since} within ${this.node.cfg.minZxidWaitMs} ms (at ${this.node.appliedZxid})`);
    }
    this.delivered.remember();
    return since;
  }

  private opWatch(id: FrameId, m: { path: string; kind: WatchKind; sinceZxid?: string | number; encoding?: string }): Handled {
    validatePath(m.path);
    const since = this.sinceOf(m.sinceZxid);
    const st = this.hub.watch(this, m.path, m.kind, since);
    if (st === 'defer') return 'defer';
    for (const e of st.missed) this.deliver(e, eventFrame(e.type, e.path, e.zxid));
    if (st.resync) this.send({ type: 'resync', path: m.path });
    this.send(watchReply(id, m.kind, st, m.encoding === 'base64'));
    return 'done';
  }

  /** Resumes a batch (see ResumeBatch.arm) once this node can read at its zxid, and sends what it armed. */
  private opResume(id: FrameId, m: ResumeFrame): Handled {
    const since = this.reachable(this.resume.sameSince(m.sinceZxid));
    if (!this.hub.ready(since)) return 'defer';
    const { missed, resyncs, results } = this.resume.arm(since, m.watches);
    for (const e of missed) this.deliver(e, eventFrame(e.type, e.path, e.zxid));
    for (const path of resyncs) this.send({ type: 'resync', path });
    this.send({ id, ok: true, zxid: String(this.node.appliedZxid), results });
    return 'done';
  }

  /** `data` and `exists` are one watch to unwatch, as ZooKeeper's removeWatches of WatcherType.Data removes both. */
  private opUnwatch(id: FrameId, m: { path: string; kind: WatchKind }): void {
    validatePath(m.path);
    const removed =
      m.kind === 'data' || m.kind === 'exists'
        ? [this.hub.unwatch(this, m.path, 'data'), this.hub.unwatch(this, m.path, 'exists')].includes(true)
        : this.hub.unwatch(this, m.path, m.kind);
    if (removed) this.send({ id, ok: true });
    else this.send({ id, ok: false, ...NO_WATCHER, message: `no ${m.kind} watch on ${m.path}`, path: m.path });
  }

  private opSession(id: FrameId, raw: string): Handled {
    const sid = sessionIdOf(raw, 'sessionId');
    // '' is "no session" in a ZK-Session header; here a session must be named.
    if (sid === '') throw new ZkError('BadArguments', 'sessionId must be a session id (0x and up to 16 hex digits), got an empty one');
    this.node.requireSessionKeeper();
    const caught = this.caughtUp?.sid === sid ? this.caughtUp : null;
    this.caughtUp = null;
    if (!this.node.sessions.has(sid)) {
      // A follower may not have applied a session the leader just created: catch up once (see ZkNode.awaitSession).
      const wait = caught ? undefined : this.node.awaitSession(sid);
      if (wait) {
        this.catchUp(sid, wait);
        return 'pending';
      }
      if (caught?.error instanceof ZkError) throw caught.error;
      throw new ZkError('SessionExpired', `session ${sid} is closed, expired or unknown`);
    }
    if (this.sessionId && this.sessionId !== sid) this.hub.unbind(this, this.sessionId);
    this.sessionId = sid;
    this.hub.bind(this, sid);
    this.alive();
    this.schedulePing();
    this.send({ id, ok: true, sessionId: sid, timeoutMs: this.node.sessions.timeoutOf(sid) });
    return 'done';
  }

  // ---- frames out ----

  private send(obj: Record<string, unknown>): void {
    this.write(Buffer.from(JSON.stringify(obj)), false);
  }

  private sendError(id: FrameId, e: ZkError): void {
    this.send({ id, ok: false, ...e.toBody() });
  }

  /**
   * The bound: what the socket has not yet taken stays under wsMaxBufferedBytes (plus the one frame that crossed it).
   * A `framed` buffer is already a whole WebSocket frame and goes straight to the socket: ws writes its own frames to
   * that socket synchronously (its sender only queues while compressing, and perMessageDeflate is off), so both kinds
   * stay in order, and ws's bufferedAmount counts both. Nothing may follow a close frame, hence OPEN only.
   */
  private write(data: Buffer, framed: boolean): void {
    if (this.closed) return;
    const max = this.node.cfg.wsMaxBufferedBytes;
    if (this.ws.bufferedAmount > max) {
      this.close(1008, `slow consumer: more than ${max} bytes waiting to be sent`);
      return;
    }
    this.framesOut++;
    if (!framed) this.ws.send(data, { binary: false });
    else if (this.ws.readyState === this.ws.OPEN) this.socket.write(data);
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pingTimer);
    this.waitToken++;
    this.cancelWake?.();
    this.cancelWake = undefined;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    this.resume.clear();
    this.hub.drop(this);
    if (this.sessionId) this.hub.unbind(this, this.sessionId);
  }
}
