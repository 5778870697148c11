// ZkClient: the SDK's handle — every REST operation (inherited from ZkRest), one session kept alive over the watch
// WebSocket, connection and session states as ZooKeeper reports them, and watches that survive a failover.
import { Connection } from './connection.js';
import { ZkClientError } from './errors.js';
import { DEFAULT_TRANSPORT, Transport, type TransportOptions } from './http.js';
import { fromWire, ZkRest } from './rest.js';
import { isOneShot, type Registration } from './watches.js';
import type { ConnectionState, Encoding, Stat, WatchedEvent, WatchKind } from './types.js';

export interface ClientOptions extends Partial<Omit<TransportOptions, 'servers'>> {
  /** One URL, several comma-separated, or a list; all are nodes of one ensemble. */
  servers: string | string[];
  /** Requested session timeout (negotiated by the server). */
  sessionTimeoutMs?: number;
  /** false: no session (no ephemerals; watches still work). Default true. */
  session?: boolean;
  /** How long connect() and each reconnection attempt may take. */
  connectTimeoutMs?: number;
}

export interface WatchOptions {
  onResync?: () => void;
  onGone?: (reason: Error) => void;
}

/** The state a watch was armed against, read at `zxid` (API.md §5). */
export interface WatchHandle {
  zxid: string;
  stat: Stat | null;
  data?: Uint8Array;
  children?: string[];
  /** Removes this listener (and the server's watch when it was the last one on that path and kind). */
  cancel(): void;
}

export function parseServers(s: string | string[]): string[] {
  const list = (Array.isArray(s) ? s : [s]).flatMap((x) => x.split(',')).map((x) => x.trim().replace(/\/+$/, '')).filter(Boolean);
  return list.map((u) => (/^https?:\/\//.test(u) ? u : `http://${u}`));
}

export class ZkClient extends ZkRest {
  readonly conn: Connection;
  private readonly sessionTimeoutMs: number | undefined;
  private readonly connectTimeoutMs: number;
  private readonly wantSession: boolean;

  constructor(opts: ClientOptions) {
    const servers = parseServers(opts.servers);
    const t = new Transport({ ...DEFAULT_TRANSPORT, ...opts, servers });
    super(t);
    this.sessionTimeoutMs = opts.sessionTimeoutMs;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 15000;
    this.wantSession = opts.session ?? true;
    this.conn = new Connection(t, {
      servers,
      connectTimeoutMs: this.connectTimeoutMs,
      replyTimeoutMs: t.opts.requestTimeoutMs,
      idlePingMs: 10000,
      auth: opts.auth,
      ordered: opts.ordered,
    });
    t.onSessionExpired = () => this.conn.expire();
  }

  /** Creates the session (unless `session: false`) and connects the watch stream. */
  static async connect(opts: ClientOptions): Promise<ZkClient> {
    const c = new ZkClient(opts);
    try {
      await c.open();
    } catch (e) {
      c.conn.close();
      await c.transport.close();
      throw e;
    }
    return c;
  }

  async open(): Promise<void> {
    if (this.wantSession && !this.transport.sessionId) {
      const s = await this.createSession(this.sessionTimeoutMs);
      this.transport.sessionId = s.sessionId;
      this.conn.timeoutMs = s.timeoutMs;
    }
    this.conn.start(this.transport.sessionId);
    await this.conn.waitConnected(this.connectTimeoutMs);
  }

  get sessionId(): string | undefined {
    return this.transport.sessionId;
  }

  /** Negotiated session timeout. */
  get sessionTimeout(): number {
    return this.conn.timeoutMs;
  }

  get state(): ConnectionState {
    return this.conn.state;
  }

  /** Highest zxid this client has seen; every later read is at least this fresh. */
  get lastZxid(): number {
    return this.transport.lastZxid;
  }

  /** `listener(state)` on every change: Disconnected, SyncConnected, Expired, Closed. Returns an unsubscribe. */
  onState(listener: (s: ConnectionState) => void): () => void {
    this.conn.on('state', listener);
    return () => this.conn.off('state', listener);
  }

  waitConnected(timeoutMs = this.connectTimeoutMs): Promise<void> {
    return this.conn.waitConnected(timeoutMs);
  }

  /**
   * Arms a watch and returns the state it was armed against. One-shot kinds (`data`, `exists`, `children`) call
   * `listener` once; persistent kinds on every change. After a reconnect every watch is re-armed in one resume frame
   * from the last zxid seen, so no change is lost and what was missed arrives in zxid order (a persistent watch gets
   * `onResync` when the server's history no longer reaches back).
   */
  async watch(path: string, kind: WatchKind, listener: (e: WatchedEvent) => void, o: WatchOptions = {}): Promise<WatchHandle> {
    const reg: Registration = { path, kind, fromZxid: Infinity, onEvent: listener, onResync: o.onResync, onGone: o.onGone };
    this.conn.watches.add(reg);
    let reply: Record<string, unknown>;
    try {
      // fromZxid is set as the reply is read: an event in the same network read as the reply is dispatched
      // before this function resumes, and with fromZxid still Infinity it would be dropped (a lost wake-up).
      reply = await this.conn.request({ op: 'watch', path, kind, encoding: 'base64' }, true, (m) => {
        reg.fromZxid = Number(m.zxid);
      });
    } catch (e) {
      this.conn.watches.remove(reg);
      throw e;
    }
    const cancel = () => {
      const wasRegistered = this.conn.watches.registrations(path, kind).includes(reg);
      if (!wasRegistered) return;
      // The server unwatches `data` and `exists` together (ZooKeeper's WatcherType.Data): while the other kind still
      // has listeners here, its watch is left armed, and this kind's event, when it comes, finds no one of its own.
      const sibling = kind === 'data' ? 'exists' : kind === 'exists' ? 'data' : undefined;
      const siblingNeeded = sibling !== undefined && this.conn.watches.registrations(path, sibling).length > 0;
      if (this.conn.watches.remove(reg) && this.conn.connected && !siblingNeeded) this.conn.request({ op: 'unwatch', path, kind }, false).catch(() => {});
    };
    return {
      zxid: String(reply.zxid),
      stat: (reply.stat as Stat | null) ?? null,
      data: typeof reply.data === 'string' ? fromWire(reply.data, (reply.encoding as Encoding) ?? 'base64') : undefined,
      children: Array.isArray(reply.children) ? (reply.children as string[]) : undefined,
      cancel,
    };
  }

  /**
   * A one-shot watch as a promise: `state` is what it was armed against; `fired` resolves with the event, or rejects
   * when it can never fire (session expired, client closed). Call `cancel` when no longer interested.
   */
  async watchOnce(path: string, kind: 'data' | 'exists' | 'children'): Promise<{ state: WatchHandle; fired: Promise<WatchedEvent> }> {
    if (!isOneShot(kind)) throw new ZkClientError('BadArguments', `${kind} is not a one-shot kind`);
    let resolve!: (e: WatchedEvent) => void;
    let reject!: (e: Error) => void;
    const fired = new Promise<WatchedEvent>((res, rej) => ((resolve = res), (reject = rej)));
    fired.catch(() => {});
    const state = await this.watch(path, kind, resolve, { onGone: reject });
    return { state, fired };
  }

  /** This client's session: id, timeout and ephemeral nodes. */
  async getSessionInfo(): Promise<{ sessionId: string; timeoutMs: number; ephemerals: string[]; ephemeralsTruncated?: true }> {
    const sid = this.transport.sessionId;
    if (!sid) throw new ZkClientError('BadArguments', 'this client has no session');
    return this.getSession(sid);
  }

  /** Closes the session (its ephemerals go at once) and the connection. */
  async close(): Promise<void> {
    const sid = this.transport.sessionId;
    const wasLive = this.conn.state !== 'Expired' && this.conn.state !== 'Closed';
    this.conn.close();
    if (sid && wasLive) {
      try {
        await this.closeSession(sid);
      } catch {
        // Expired already, or no server reachable: the session will expire on its own.
      }
    }
    await this.transport.close();
  }
}
