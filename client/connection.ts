// The client's WebSocket to /v1/watch: binds and keeps the session alive, answers for the watch table, and on a
// lost connection moves to the next server, waits there until that node has caught up with what the client has
// seen, re-binds the session and re-arms every watch with sinceZxid (ZooKeeper's SetWatches) — or reports Expired.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { ZkClientError } from './errors.js';
import type { Transport } from './http.js';
import { Rearm, RESUME_FRAME_BYTES } from './rearm.js';
import { WatchTable } from './watches.js';
import type { ConnectionState, WatchedEvent, WatchEventType } from './types.js';

/** Silence checks per ping interval: a frozen node is left between 2/3 and 3/4 of the session timeout. */
const PING_CHECKS = 4;

/** The smallest resume frame a client cuts to: one watch still goes alone in a frame of its own if larger. */
const MIN_RESUME_FRAME_BYTES = 1024;

export type Frame = Record<string, unknown>;

export interface ConnectionOptions {
  servers: string[];
  /** How long one connection attempt (upgrade, catch-up, bind, re-arm) may take. */
  connectTimeoutMs: number;
  /** How long a frame waits for its reply. */
  replyTimeoutMs: number;
  /** Liveness pings when no session is bound (a bound one pings every third of its timeout). */
  idlePingMs: number;
  auth?: { user: string; password: string };
  ordered?: boolean;
}

interface Pending {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  tracksZxid: boolean;
  /** Runs as the reply frame is read, before any later frame: a promise continuation would run after them. */
  onReply?: (m: Frame) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Connection extends EventEmitter {
  state: ConnectionState = 'Disconnected';
  sessionId: string | undefined;
  timeoutMs = 0;
  /**
   * Highest zxid delivered on the watch stream: every change at or below it that concerns our watches was seen. -1
   * until one is (0 is a zxid: a server that has committed nothing).
   */
  streamZxid = -1;
  /** Bytes of watches per resume frame; halved when a server closes one as too large (1009), down to a floor. */
  private resumeFrameBytes = RESUME_FRAME_BYTES;
  readonly watches = new WatchTable();
  private ws: WebSocket | undefined;
  private idx: number;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private running = false;

  constructor(
    private readonly transport: Transport,
    private readonly opts: ConnectionOptions,
  ) {
    super();
    this.setMaxListeners(0);
    this.idx = opts.ordered ? 0 : Math.floor(Math.random() * opts.servers.length);
  }

  get connected(): boolean {
    return this.state === 'SyncConnected';
  }

  get server(): string | undefined {
    return this.ws ? this.opts.servers[this.idx] : undefined;
  }

  private setState(s: ConnectionState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  /** Starts the connect loop in the background; waitConnected() tells when it has succeeded. */
  start(sessionId: string | undefined): void {
    this.sessionId = sessionId;
    void this.loop();
  }

  waitConnected(timeoutMs: number): Promise<void> {
    if (this.state === 'SyncConnected') return Promise.resolve();
    if (this.state === 'Expired') return Promise.reject(new ZkClientError('SessionExpired', `session ${this.sessionId} expired`));
    if (this.state === 'Closed') return Promise.reject(new ZkClientError('ConnectionLoss', 'client is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('state', on);
        reject(new ZkClientError('ConnectionLoss', `not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const on = (s: ConnectionState) => {
        if (s === 'Disconnected') return;
        clearTimeout(timer);
        this.off('state', on);
        if (s === 'SyncConnected') resolve();
        else reject(new ZkClientError(s === 'Expired' ? 'SessionExpired' : 'ConnectionLoss', `client is ${s}`));
      };
      this.on('state', on);
    });
  }

  private async loop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      let failures = 0;
      while (this.state === 'Disconnected') {
        const url = this.opts.servers[this.idx] as string;
        try {
          await this.connectTo(url);
          return;
        } catch (e) {
          if (e instanceof ZkClientError && e.zkName === 'SessionExpired') {
            this.expire();
            return;
          }
          this.idx = (this.idx + 1) % this.opts.servers.length;
          failures++;
          // A pause after each round of the list, growing to a bound, so a dead ensemble is not hammered.
          if (failures % this.opts.servers.length === 0) await sleep(this.transport.backoffMs(Math.min(failures / this.opts.servers.length, 5)));
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async connectTo(url: string): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.opts.auth) headers.Authorization = 'Basic ' + Buffer.from(`${this.opts.auth.user}:${this.opts.auth.password}`).toString('base64');
    const tls = this.transport.opts.tls;
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/v1/watch', { headers, handshakeTimeout: this.opts.connectTimeoutMs, perMessageDeflate: false, ...(tls && { ca: tls.ca, cert: tls.cert, key: tls.key }) });
    const deadline = Date.now() + this.opts.connectTimeoutMs;
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('close', () => reject(new Error('closed during connect')));
      });
    } catch (e) {
      ws.terminate();
      throw e;
    }
    this.ws = ws;
    this.lastHeard = Date.now();
    ws.on('message', (d) => this.onFrame(ws, d.toString()));
    ws.on('ping', () => (this.lastHeard = Date.now()));
    let closeCode = 0;
    ws.on('close', (code) => {
      closeCode = code;
      this.onClose(ws);
    });
    ws.on('error', () => ws.terminate());
    try {
      // Single system image: this node must have applied what we have already seen before it serves us.
      const target = Math.max(this.transport.lastZxid, this.streamZxid);
      for (;;) {
        const r = await this.sendOn(ws, { op: 'ping' }, false);
        if (Number(r.zxid) >= target) break;
        if (Date.now() > deadline) throw new ZkClientError('ConnectionLoss', `${url} is behind zxid ${target}`);
        await sleep(20);
      }
      if (this.sessionId) {
        const r = await this.sendOn(ws, { op: 'session', sessionId: this.sessionId }, false);
        this.timeoutMs = Number(r.timeoutMs);
      }
      await new Rearm(this.watches, (frame, tracksZxid) => this.sendOn(ws, frame, tracksZxid), this.resumeFrameBytes).run(this.streamZxid);
    } catch (e) {
      this.ws = undefined;
      ws.terminate();
      // 1009: a frame larger than this server takes (its wsMaxFrameBytes is below ours): smaller ones next time,
      // rather than the same refusal at every attempt while the session is kept alive by each one's bind.
      if (closeCode === 1009) this.resumeFrameBytes = Math.max(MIN_RESUME_FRAME_BYTES, Math.floor(this.resumeFrameBytes / 2));
      throw e;
    }
    this.setState('SyncConnected');
    this.schedulePing();
  }

  /**
   * Pings every third of the session timeout, and looks for silence four times as often: checked only at each ping, a
   * node that froze just after answering was abandoned after a whole timeout, as late as the session could lapse.
   */
  private schedulePing(ticks = 0): void {
    clearTimeout(this.pingTimer);
    const every = this.timeoutMs > 0 ? Math.max(50, Math.floor(this.timeoutMs / 3)) : this.opts.idlePingMs;
    const step = Math.max(10, Math.floor(every / PING_CHECKS));
    this.pingTimer = setTimeout(() => {
      const ws = this.ws;
      if (!ws) return;
      // Silent for two thirds of the timeout: this server is gone for us; try another before the session lapses.
      if (Date.now() - this.lastHeard > 2 * every) {
        ws.terminate();
        return;
      }
      const next = (ticks + 1) % PING_CHECKS;
      if (next === 0) this.sendOn(ws, { op: 'ping' }, false).catch(() => {});
      this.schedulePing(next);
    }, step);
    this.pingTimer.unref();
  }

  private onFrame(ws: WebSocket, text: string): void {
    if (ws !== this.ws) return;
    this.lastHeard = Date.now();
    let m: Frame;
    try {
      m = JSON.parse(text) as Frame;
    } catch {
      return;
    }
    if (m.type === 'event') {
      const e: WatchedEvent = { type: m.event as WatchEventType, path: String(m.path), zxid: String(m.zxid) };
      this.sawStream(Number(e.zxid));
      this.watches.dispatch(e);
      return;
    }
    if (m.type === 'resync') {
      this.watches.resync(String(m.path));
      return;
    }
    if (m.type === 'session') {
      // 'expired', or 'closed' by someone else (our own close has already made us Closed): the handle is dead.
      this.expire();
      return;
    }
    const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
    if (!p) return;
    this.pending.delete(m.id as number);
    clearTimeout(p.timer);
    if (m.ok === true) {
      if (p.tracksZxid && m.zxid !== undefined) this.sawStream(Number(m.zxid));
      p.onReply?.(m);
      p.resolve(m);
    } else {
      const err = ZkClientError.fromBody(0, m as { error?: never; message?: string });
      if (err.zkName === 'SessionExpired') this.expire();
      p.reject(err);
    }
  }

  private sawStream(z: number): void {
    if (z > this.streamZxid) this.streamZxid = z;
    this.transport.sawZxid(z);
  }

  private sendOn(ws: WebSocket, frame: Frame, tracksZxid: boolean, onReply?: (m: Frame) => void): Promise<Frame> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ZkClientError('ConnectionLoss', `no reply to ${String(frame.op)} within ${this.opts.replyTimeoutMs} ms`));
      }, this.opts.replyTimeoutMs);
      this.pending.set(id, { resolve, reject, timer, tracksZxid, onReply });
      ws.send(JSON.stringify({ ...frame, id }), (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new ZkClientError('ConnectionLoss', err.message));
      });
    });
  }

  /** Sends a frame once connected (waiting for that, bounded) and resolves with its `ok` reply. */
  async request(frame: Frame, tracksZxid = true, onReply?: (m: Frame) => void): Promise<Frame> {
    await this.waitConnected(this.opts.connectTimeoutMs);
    const ws = this.ws;
    if (!ws) throw new ZkClientError('ConnectionLoss', 'not connected');
    return this.sendOn(ws, frame, tracksZxid, onReply);
  }

  private failPending(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private onClose(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    clearTimeout(this.pingTimer);
    this.failPending(new ZkClientError('ConnectionLoss', 'connection to the server was lost'));
    if (this.state === 'Expired' || this.state === 'Closed') return;
    this.setState('Disconnected');
    this.idx = (this.idx + 1) % this.opts.servers.length;
    void this.loop();
  }

  /** Cuts the current connection as a network fault would; the client reconnects (to the next server) and re-arms. */
  drop(): void {
    this.ws?.terminate();
  }

  /** The session is gone for good: every watch dies, and so does this connection. */
  expire(): void {
    if (this.state === 'Expired' || this.state === 'Closed') return;
    this.setState('Expired');
    this.shutdown(new ZkClientError('SessionExpired', `session ${this.sessionId} expired`));
  }

  close(): void {
    if (this.state === 'Closed') return;
    this.setState('Closed');
    this.shutdown(new ZkClientError('ConnectionLoss', 'client closed'));
  }

  private shutdown(reason: ZkClientError): void {
    clearTimeout(this.pingTimer);
    const ws = this.ws;
    this.ws = undefined;
    this.failPending(reason);
    this.watches.clear(reason);
    if (ws) {
      ws.close(1000);
      setTimeout(() => ws.terminate(), 1000).unref();
    }
  }
}
