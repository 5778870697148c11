// The CLI's HTTP client: tries each --url in turn until one answers, carries --auth as HTTP Basic, and turns
// answers into values or the CLI's typed failures (a ZooKeeper error, an unreachable server).
import { request as httpRequest, Agent, type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import { ZkFailure, Unreachable, type ZkErrorBody } from './errors.js';

// node:http rather than fetch: fetch's first use costs ~150 ms of startup, a lot for a one-shot command.
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 4 });

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** One HTTP exchange; resolves with the response head once it arrives (the body is the caller's to read). */
export function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
  tlsAgent: HttpsAgent = httpsAgent,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const tls = url.startsWith('https:');
    const req = (tls ? httpsRequest : httpRequest)(url, { method, headers, agent: tls ? tlsAgent : agent });
    const timer = setTimeout(() => req.destroy(new TimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export interface ClientOptions {
  url?: string[];
  auth?: string;
  json?: boolean;
  timeout?: string;
  /** PEM files, as curl's flags: a CA to trust for https:// servers, and a client certificate and its key. */
  cacert?: string;
  cert?: string;
  key?: string;
}

/** What --cacert, --cert and --key give a TLS connection (HTTPS requests and the watch command's WSS). */
export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function readPem(flag: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`${flag}: cannot read ${file}: ${(e as Error).message}`);
  }
}

function tlsFiles(o: ClientOptions): TlsFiles {
  if ((o.cert === undefined) !== (o.key === undefined)) throw new Error('--cert and --key go together: a client certificate and its key');
  return { ca: readPem('--cacert', o.cacert), cert: readPem('--cert', o.cert), key: readPem('--key', o.key) };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The server that answered. */
  url: string;
}

export interface RequestOptions {
  query?: [string, string][];
  headers?: Record<string, string>;
  body?: string;
  /** Changes nothing (a read, a sync): any 503 moves on to the next URL, not only one that says it was not applied. */
  readOnly?: boolean;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** `--url a --url b,c` → [a, b, c]; the default when none is given. */
export function parseUrls(given: string[] | undefined): string[] {
  const urls = (given ?? [])
    .flatMap((u) => u.split(','))
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter((u) => u !== '');
  return urls.length > 0 ? urls : [process.env.ZKGATE_URL || DEFAULT_URL];
}

/** The reason a request could not reach `url`, in words an operator can act on. */
export function describeNetworkError(e: unknown, url: string, timeoutMs: number): Unreachable {
  const err = e as { name?: string; code?: string; message?: string };
  if (err.name === 'TimeoutError') return new Unreachable(url, 'timeout', `no answer within ${timeoutMs} ms (timeout)`);
  const code = err.code;
  switch (code) {
    case 'ECONNREFUSED':
      return new Unreachable(url, 'not running', 'connection refused; the server is probably not running');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Unreachable(url, 'unresolvable', 'cannot resolve the host name');
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return new Unreachable(url, 'reset', 'the connection was closed before an answer came');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new Unreachable(url, 'unreachable', 'the host cannot be reached');
    default:
      return new Unreachable(url, 'error', err.message ?? String(e));
  }
}

export class Client {
  readonly urls: string[];
  readonly timeoutMs: number;
  private readonly authHeader?: string;
  /** The server that answered last; later requests of the same command start there. */
  private current = 0;

  readonly tls: TlsFiles;
  readonly httpsAgent: HttpsAgent;

  constructor(opts: ClientOptions) {
    this.tls = tlsFiles(opts);
    this.httpsAgent = this.tls.ca || this.tls.cert ? new HttpsAgent({ keepAlive: true, maxSockets: 4, ...this.tls }) : httpsAgent;
    this.urls = parseUrls(opts.url);
    for (const u of this.urls) {
      if (!/^https?:\/\/[^/]+$/.test(u)) throw new Error(`--url must look like http://host:port, got ${JSON.stringify(u)}`);
    }
    this.timeoutMs = opts.timeout !== undefined ? Number(opts.timeout) : 10000;
    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) throw new Error(`--timeout must be a positive number of milliseconds, got ${JSON.stringify(opts.timeout)}`);
    if (opts.auth !== undefined) {
      if (!opts.auth.includes(':') || opts.auth.startsWith(':')) throw new Error('--auth must be user:password');
      this.authHeader = 'Basic ' + Buffer.from(opts.auth, 'utf8').toString('base64');
    }
  }

  get authorization(): string | undefined {
    return this.authHeader;
  }

  get currentUrl(): string {
    return this.urls[this.current] as string;
  }

  /**
   * Sends the request to the servers in turn, starting with the last one that answered. A server that cannot
   * be reached, or answers 503 saying the write was never applied, hands over to the next.
   */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    const qs = opts.query && opts.query.length > 0 ? '?' + opts.query.map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&') : '';
    const failures: Unreachable[] = [];
    let last503: Answer | undefined;
    for (let i = 0; i < this.urls.length; i++) {
      const idx = (this.current + i) % this.urls.length;
      const base = this.urls[idx] as string;
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
      if (this.authHeader) headers.authorization = this.authHeader;
      if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
      let res: IncomingMessage;
      let body: Buffer;
      try {
        res = await send(base + path + qs, method, headers, opts.body, this.timeoutMs, this.httpsAgent);
        body = await readAll(res);
      } catch (e) {
        failures.push(describeNetworkError(e, base, this.timeoutMs));
        continue;
      }
      const answer: Answer = { status: res.statusCode ?? 0, headers: res.headers, body, url: base };
      // A member that refuses reads (cut off, catching up, another data set) says so with a 503 that has no `applied`:
      // a read is safe to ask the next member; a write only when the answer says it was not applied.
      const readOnly = opts.readOnly === true || method === 'GET' || method === 'HEAD';
      if (answer.status === 503 && (readOnly || parseError(answer)?.applied === false) && i < this.urls.length - 1) {
        last503 = answer;
        continue;
      }
      this.current = idx;
      return answer;
    }
    if (last503) return last503;
    throw Unreachable.all(failures);
  }

  /** A request whose success is JSON (or empty); an error answer becomes a ZkFailure. */
  async call<T>(method: string, path: string, opts: RequestOptions = {}): Promise<{ value: T; raw: string; answer: Answer }> {
    const answer = await this.request(method, path, opts);
    if (answer.status >= 400) throw failureOf(answer);
    const raw = answer.body.toString('utf8');
    return { value: (raw === '' ? null : JSON.parse(raw)) as T, raw, answer };
  }
}

/** The ZooKeeper error an answer carries; undefined when it is not one of ours (HTML, another server's JSON). */
export function parseError(a: Answer): ZkErrorBody | undefined {
  try {
    const v = JSON.parse(a.body.toString('utf8')) as Partial<ZkErrorBody>;
    if (typeof v.error === 'string' && typeof v.code === 'number') return v as ZkErrorBody;
  } catch {
    /* not JSON: not one of our errors */
  }
  return undefined;
}

export function failureOf(a: Answer): ZkFailure {
  const body = parseError(a);
  if (body) return new ZkFailure(body, a.status, a.url);
  const text = a.body.toString('utf8').slice(0, 200);
  return new ZkFailure({ error: 'SystemError', code: -1, message: `HTTP ${a.status} from ${a.url}: ${text}` }, a.status, a.url);
}

/** `/a/b c` → `/v1/znodes/a/b%20c`; the CLI checks the path is absolute first. */
export function znodeUrl(prefix: '/v1/znodes' | '/v1/acl', path: string): string {
  return prefix + (path === '/' ? '/' : path.split('/').map(encodeURIComponent).join('/'));
}
