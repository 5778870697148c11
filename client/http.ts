// HTTP transport: one request against a list of servers, with failover, bounded retries with backoff for what is safe
// to retry (reads, and writes the server says were never proposed), and ZK-Min-Zxid carried so that a client never
// reads an older state than it has already seen, whichever node answers (ZooKeeper's single system image).
import { Agent } from 'undici';
import { ZkClientError } from './errors.js';
import type { ErrorBody } from './types.js';

/** For `https://` servers: PEM contents (not paths), as Node's tls options take them. */
export interface ClientTls {
  /** The CA(s) to trust, in place of Node's built-in list (as Node's `ca` does): a private CA that signed the servers' certificates. */
  ca?: string | Buffer;
  /** A client certificate and its key, for a server with tlsClientCaFile (it authenticates as `x509:<subject DN>`). */
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface TransportOptions {
  /** Base URLs, e.g. `http://127.0.0.1:8080`; tried in turn. */
  servers: string[];
  /** Per attempt. */
  requestTimeoutMs: number;
  /** Further attempts after the first, for requests that are safe to retry. */
  maxRetries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** HTTP Basic, which the server maps to `digest:user`. */
  auth?: { user: string; password: string };
  /** Try the servers in the given order (default: start at a random one, as ZooKeeper shuffles its connect string). */
  ordered?: boolean;
  tls?: ClientTls;
}

export const DEFAULT_TRANSPORT: Omit<TransportOptions, 'servers'> = {
  requestTimeoutMs: 10000,
  maxRetries: 6,
  retryBaseMs: 50,
  retryMaxMs: 1000,
};

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface RequestSpec {
  method: Method;
  /** Path and query, e.g. `/v1/znodes/a?children`. */
  url: string;
  body?: Uint8Array | string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Safe to send again whatever happened to an earlier attempt (reads, sync, keepalive). */
  idempotent: boolean;
  /** Sends ZK-Session (default true when a session exists). */
  withSession?: boolean;
  accept?: string;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined for an empty one. */
  body: unknown;
  bytes: Uint8Array;
}

/** Connection errors where the request certainly never reached a server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

function causeCode(e: unknown): string | undefined {
  let c: unknown = e;
  for (let i = 0; i < 4 && c && typeof c === 'object'; i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Waits `ms`, or less if `signal` aborts; its listener goes either way. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export class Transport {
  /** The highest zxid this client has seen from any server (responses and watch events). */
  lastZxid = 0;
  private current = 0;
  /**
   * ZK-Session-Epoch: raised whenever requests move to another server, so that a write left behind on the one given
   * up on (a paused node that reads it on waking) is refused where writes are placed, not applied after its retry.
   */
  private epoch = 1;
  sessionId: string | undefined;
  /** Told when any response says the session is gone (410). */
  onSessionExpired: () => void = () => {};

  /** Connections with this client's TLS settings; fetch's shared default otherwise. */
  private readonly dispatcher: Agent | undefined;

  constructor(readonly opts: TransportOptions) {
    if (opts.servers.length === 0) throw new ZkClientError('BadArguments', 'at least one server URL is needed');
    if (opts.tls && !opts.tls.cert !== !opts.tls.key) throw new ZkClientError('BadArguments', 'tls.cert and tls.key go together');
    this.dispatcher = opts.tls && new Agent({ connect: { ca: opts.tls.ca, cert: opts.tls.cert, key: opts.tls.key } });
    // Clients spread over the list, as ZooKeeper's shuffled connect string does.
    this.current = opts.ordered ? 0 : Math.floor(Math.random() * opts.servers.length);
  }

  /** Set by close(): requests still retrying then fail at once instead of for maxRetries × requestTimeoutMs. */
  private closed = false;
  /** One controller per request in flight (not one long-lived signal every request would hang listeners on). */
  private readonly inflight = new Set<AbortController>();

  /** Closes the connections kept for this client's TLS settings (the shared default pool is not ours to close). */
  async close(): Promise<void> {
    this.closed = true;
    for (const ac of this.inflight) ac.abort();
    await this.dispatcher?.close();
  }

  get server(): string {
    return this.opts.servers[this.current] as string;
  }

  rotate(): void {
    this.current = (this.current + 1) % this.opts.servers.length;
    this.epoch++;
  }

  sawZxid(z: number): void {
    if (Number.isSafeInteger(z) && z > this.lastZxid) this.lastZxid = z;
  }

  backoffMs(attempt: number): number {
    const cap = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** attempt);
    return cap / 2 + Math.random() * (cap / 2);
  }

  private headersFor(spec: RequestSpec): Record<string, string> {
    const h: Record<string, string> = { ...(spec.headers ?? {}) };
    if (this.lastZxid > 0) h['ZK-Min-Zxid'] = String(this.lastZxid);
    if (spec.withSession !== false && this.sessionId) {
      h['ZK-Session'] = this.sessionId;
      h['ZK-Session-Epoch'] = String(this.epoch);
    }
    if (this.opts.auth) h.Authorization = 'Basic ' + Buffer.from(`${this.opts.auth.user}:${this.opts.auth.password}`).toString('base64');
    if (spec.contentType) h['Content-Type'] = spec.contentType;
    if (spec.accept) h.Accept = spec.accept;
    return h;
  }

  /** Sends `spec`, failing over and retrying when safe; a ZooKeeper error status is thrown as ZkClientError. */
  async request(spec: RequestSpec): Promise<HttpResponse> {
    if (this.closed) throw new ZkClientError('ConnectionLoss', 'client closed');
    const ac = new AbortController();
    const follow = () => ac.abort();
    spec.signal?.addEventListener('abort', follow, { once: true });
    if (spec.signal?.aborted) ac.abort();
    this.inflight.add(ac);
    try {
      return await this.attempts(spec, ac.signal);
    } finally {
      this.inflight.delete(ac);
      spec.signal?.removeEventListener('abort', follow);
    }
  }

  private async attempts(spec: RequestSpec, stop: AbortSignal): Promise<HttpResponse> {
    let last: ZkClientError | undefined;
    const aborted = () => (this.closed ? new ZkClientError('ConnectionLoss', 'client closed') : new ZkClientError('OperationTimeout', 'request aborted'));
    for (let attempt = 0; attempt <= this.opts.maxRetries; attempt++) {
      if (attempt > 0) await sleep(this.backoffMs(attempt - 1), stop);
      if (stop.aborted) throw aborted();
      let res: Response;
      const timeout = AbortSignal.timeout(this.opts.requestTimeoutMs);
      try {
        res = await fetch(this.server + spec.url, {
          method: spec.method,
          headers: this.headersFor(spec),
          // Node's fetch takes any Uint8Array; the DOM typings only admit ArrayBuffer-backed views.
          body: spec.body as BodyInit | undefined,
          signal: AbortSignal.any([stop, timeout]),
          ...(this.dispatcher && { dispatcher: this.dispatcher }),
        } as RequestInit);
      } catch (e) {
        const code = causeCode(e);
        const neverSent = code !== undefined && NEVER_SENT.has(code);
        last = new ZkClientError('ConnectionLoss', `${spec.method} ${this.server}: ${code ?? (e as Error).message}`, { applied: neverSent ? false : undefined });
        this.rotate();
        if (stop.aborted) throw aborted();
        if (spec.idempotent || neverSent) continue;
        throw last;
      }
      const z = Number(res.headers.get('zk-zxid'));
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (res.status < 400) {
        this.sawZxid(z);
        return { status: res.status, headers: res.headers, body: parseJson(bytes, res.headers), bytes };
      }
      const body = (parseJson(bytes, res.headers) ?? {}) as Partial<ErrorBody>;
      const err = ZkClientError.fromBody(res.status, body);
      if (res.status === 410 && err.zkName === 'SessionExpired' && spec.withSession !== false && this.sessionId) this.onSessionExpired();
      if (res.status !== 503) {
        this.sawZxid(z);
        throw err;
      }
      last = err;
      // Refused because the session's requests had moved past this one's epoch (another handle on the same session,
      // or a request of ours sent after a move): never applied, so the retry carries at least that epoch.
      if (typeof body.sessionEpoch === 'number' && Number.isSafeInteger(body.sessionEpoch)) this.epoch = Math.max(this.epoch, body.sessionEpoch);
      this.rotate();
      if (!(spec.idempotent || body.applied === false)) throw err;
    }
    throw last ?? new ZkClientError('ConnectionLoss', 'no server answered');
  }
}

function parseJson(bytes: Uint8Array, headers: Headers): unknown {
  if (bytes.length === 0) return undefined;
  const ct = headers.get('content-type') ?? '';
  if (!ct.includes('json')) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
}
