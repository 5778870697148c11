// HTTP plumbing for the standalone tests: raw requests over node:http (so paths reach the server exactly as
// written, with no URL normalisation), typed response bodies, Basic auth and ZooKeeper digests, server fixtures.
import { request } from 'node:http';
import net, { type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import type { Config } from '../../server/config.js';
import { spawnServer, startTestServer, type ChildServer, type TestServer } from '../helpers/server.js';

// The wire shapes are the SDK's: these tests are a client too.
import type { Acl, Stat } from '../../client/types.js';
export type { Stat };
export type AclJson = Acl;

export interface OpResult {
  op?: string;
  path?: string;
  stat?: Stat;
  data?: string;
  encoding?: string;
  children?: string[];
  error?: string;
  code?: number;
}

/** Every field any response body may carry; a test reads the ones its route returns. */
export interface Body {
  path: string;
  data: string;
  encoding: string;
  stat: Stat;
  children: string[];
  error: string;
  code: number;
  message: string;
  results: OpResult[];
  zxid: string;
  sessionId: string;
  timeoutMs: number;
  ephemerals: string[];
  acl: AclJson[];
  applied?: boolean;
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  body: Body;
  header(name: string): string | undefined;
}

export interface CallOpts {
  /** Raw bytes or text are sent as-is; any other value is sent as JSON. */
  body?: Buffer | string | object;
  headers?: Record<string, string>;
}

/** One HTTP request against `base` (http://127.0.0.1:port) with `path` sent verbatim. */
export function call(base: string, method: string, path: string, opts: CallOpts = {}): Promise<Res> {
  const u = new URL(base);
  const headers: Record<string, string> = { ...opts.headers };
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    if (Buffer.isBuffer(opts.body)) payload = opts.body;
    else if (typeof opts.body === 'string') payload = Buffer.from(opts.body, 'utf8');
    else {
      payload = Buffer.from(JSON.stringify(opts.body), 'utf8');
      headers['content-type'] ??= 'application/json';
    }
    headers['content-length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        let body = {} as Body;
        const type = String(res.headers['content-type'] ?? '');
        if (type.includes('json') && raw.length > 0) body = JSON.parse(raw.toString('utf8')) as Body;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          raw,
          body,
          header: (name) => {
            const v = res.headers[name.toLowerCase()];
            return Array.isArray(v) ? v.join(', ') : v;
          },
        });
      });
    });
    req.setTimeout(20000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** `/v1/znodes` + path, each segment percent-encoded, plus an optional query string. */
export function zurl(path: string, query = ''): string {
  const enc = path === '/' ? '/' : path.split('/').map(encodeURIComponent).join('/');
  return '/v1/znodes' + enc + (query ? '?' + query : '');
}

/** A small client for one server: the znode operations by name, everything else through `call`. */
export class Client {
  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  with(headers: Record<string, string>): Client {
    return new Client(this.base, { ...this.headers, ...headers });
  }
  call(method: string, path: string, opts: CallOpts = {}): Promise<Res> {
    return call(this.base, method, path, { ...opts, headers: { ...this.headers, ...opts.headers } });
  }
  get(path: string, query = '', headers: Record<string, string> = {}): Promise<Res> {
    return this.call('GET', zurl(path, query), { headers });
  }
  children(path: string): Promise<Res> {
    return this.get(path, 'children');
  }
  stat(path: string): Promise<Res> {
    return this.get(path, 'stat');
  }
  create(path: string, data: Buffer | string = '', query = '', headers: Record<string, string> = {}): Promise<Res> {
    return this.call('POST', zurl(path, query), { body: Buffer.isBuffer(data) ? data : Buffer.from(data), headers: { 'content-type': 'application/octet-stream', ...headers } });
  }
  set(path: string, data: Buffer | string, query = '', headers: Record<string, string> = {}): Promise<Res> {
    return this.call('PUT', zurl(path, query), { body: Buffer.isBuffer(data) ? data : Buffer.from(data), headers: { 'content-type': 'application/octet-stream', ...headers } });
  }
  delete(path: string, query = '', headers: Record<string, string> = {}): Promise<Res> {
    return this.call('DELETE', zurl(path, query), { headers });
  }
  multi(ops: object[], headers: Record<string, string> = {}): Promise<Res> {
    return this.call('POST', '/v1/multi', { body: { ops }, headers });
  }
  getAcl(path: string): Promise<Res> {
    return this.call('GET', '/v1/acl' + (path === '/' ? '/' : path));
  }
  setAcl(path: string, acl: AclJson[], headers: Record<string, string> = {}): Promise<Res> {
    return this.call('PUT', '/v1/acl' + (path === '/' ? '/' : path), { body: { acl }, headers });
  }
  async session(timeoutMs?: number): Promise<string> {
    const r = await this.call('POST', '/v1/sessions', { body: timeoutMs === undefined ? {} : { timeoutMs } });
    if (r.status !== 201) throw new Error(`session create: ${r.status} ${r.raw.toString()}`);
    return r.body.sessionId;
  }
}

/** `Authorization: Basic` for user:password. */
export function basic(user: string, password: string): Record<string, string> {
  return { authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') };
}

/** ZooKeeper's digest id, computed here independently of the server: user:base64(sha1(user:password)). */
export function digest(user: string, password: string): string {
  return `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;
}

/** Starts an in-process server for the whole test file and stops it when the file ends. */
export async function serverFor(t: { teardown(fn: () => unknown): void }, overrides: Partial<Config> = {}): Promise<{ server: TestServer; zk: Client }> {
  const server = await startTestServer(overrides);
  t.teardown(() => server.destroy());
  return { server, zk: new Client(server.url) };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` every 25 ms until it returns true or `ms` pass; returns whether it did. */
export async function eventually(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await sleep(25);
  }
  return probe();
}

/**
 * spawnServer, but on a machine shared with other test suites a cold start can take longer than the helper's
 * own 15 s: keep waiting (bounded) while the process is alive. Resolves once it answers ruok or has exited.
 */
export async function spawnUp(args: string[], extraWaitMs = 45000): Promise<ChildServer> {
  const s = await spawnServer(args);
  // If this test process ends early (tap's per-file timeout), the server must not outlive it.
  const reap = () => s.proc.kill('SIGKILL');
  process.once('exit', reap);
  void s.exited.then(() => process.off('exit', reap));
  const deadline = Date.now() + extraWaitMs;
  while (s.proc.exitCode === null && s.proc.signalCode === null && Date.now() < deadline) {
    try {
      if ((await call(s.url, 'GET', '/v1/admin/ruok')).status === 200) break;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  return s;
}

/** A raw TCP connection to a test server, for bytes no HTTP client would send, or answers one would hide. */
export interface RawConnection {
  sock: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves once the connection is closed (by either side). */
  closed: Promise<void>;
}

export async function rawConnection(port: number): Promise<RawConnection> {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString('utf8')));
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise((r) => sock.once('connect', r));
  return { sock, received: () => got, closed };
}

export interface RawAnswer {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: string;
}

/** The last HTTP answer in `raw`: on a keep-alive connection others may come before it. */
export function lastAnswer(raw: string): RawAnswer {
  const last = raw.slice(raw.lastIndexOf('HTTP/1.1 '));
  const split = last.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = last.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: last.slice(split + 4) };
}
