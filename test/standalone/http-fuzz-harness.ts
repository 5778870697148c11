// What the HTTP fuzz tests (http-fuzz-*.test.ts) share: the standalone node they aim at, raw HTTP/1.1 exchanges with
// it, and the rules every answer is held to.
//
// API.md §6: "No input a client can send yields a 5xx other than 503, a crash, or a hang", every error is JSON
// {error, code, message, path?} with ZooKeeper's name and code, and the HTTP status follows §6's fixed table (405 with
// Allow, 503 with Retry-After); §3: every response carries ZK-Zxid.
//
// Requests are written byte for byte on a raw TCP connection (no client library normalises the method, the request
// target or the headers), one connection each, and every answer is checked against the rules below. A property does
// not stop at its first counterexample: every request of a run is checked, the violations are collected per rule,
// and each rule is one assertion listing up to 20 distinct examples (by rule, method, route, status and error name),
// each with the request as bytes and as a curl command. After each property the node must still answer
// `GET /v1/admin/ruok`, must have logged nothing at error level, and the process must have seen no unhandled
// rejection or uncaught exception.
//
// Seeds are fixed. HTTP_FUZZ_SEED=<n> and HTTP_FUZZ_SCALE=<factor of the run counts> explore further (a failing
// example is replayed with the seed it names).
import fc from 'fast-check';
import net from 'node:net';
import type { Test } from 'tap';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { logInto } from '../helpers/log.js';

export const MAX = 4096; // jute.maxbuffer for this node: bodies just under, at and over it are cheap to send
const BOUND_MS = 10_000; // an answer later than this is a hang
export const SEED = process.env.HTTP_FUZZ_SEED !== undefined ? Number(process.env.HTTP_FUZZ_SEED) : 0x5eed;
const SCALE = Number(process.env.HTTP_FUZZ_SCALE ?? 1);
export const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

// ---- what the process and the node report besides answers ----

export interface LogLine {
  level: number;
  msg?: string;
  err?: { message?: string; stack?: string };
}

/**
 * Starts the node the fuzz tests aim at, and watches the process while it runs: what the node logs at warn and above
 * goes to `logged`, unhandled rejections and uncaught exceptions to `unhandled`. Both stop when `t` ends.
 */
export async function startFuzzNode(t: Test): Promise<{ server: TestServer; logged: LogLine[]; unhandled: string[] }> {
  const logged: LogLine[] = [];
  const unhandled: string[] = [];
  const onRejection = (e: unknown) => void unhandled.push(`unhandledRejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  const onException = (e: unknown) => void unhandled.push(`uncaughtException: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);

  const server = await startTestServer(
    {
      juteMaxBuffer: MAX,
      // Every wait a request can ask for is short, so that a legitimate wait never looks like a hang.
      minZxidWaitMs: 200,
      blockingReadMaxWaitMs: 300,
      recipeMaxWaitMs: 300,
      // A request left unfinished is answered 400 MarshallingError within a few seconds (http-fuzz-malformed.test.ts checks how).
      httpRequestTimeoutMs: 3000,
    },
    logInto(logged, 'warn'),
  );
  t.teardown(async () => {
    await server.destroy();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });
  return { server, logged, unhandled };
}

// ---- a raw HTTP/1.1 exchange ----

export interface Answer {
  kind: 'answer' | 'closed' | 'timeout';
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  ms: number;
}

/** Parses the first final (non-1xx) answer in `buf`; undefined while it is incomplete and the connection open. */
function parseAnswer(buf: Buffer, head: boolean, closed: boolean): Omit<Answer, 'kind' | 'ms'> | undefined {
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end < 0) return undefined;
    const lines = buf.subarray(off, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) return { status: -1, headers: {}, body: buf.subarray(off) };
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    const start = end + 4;
    if (status >= 100 && status < 200 && status !== 101) {
      off = start; // 100 Continue: the final answer follows
      continue;
    }
    if (head || status === 101 || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      let p = start;
      for (;;) {
        const le = buf.indexOf('\r\n', p);
        if (le < 0) return closed ? { status, headers, body: Buffer.concat(parts) } : undefined;
        const n = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (!(n > 0)) return { status, headers, body: Buffer.concat(parts) };
        if (buf.length < le + 2 + n + 2) return closed ? { status, headers, body: Buffer.concat(parts) } : undefined;
        parts.push(buf.subarray(le + 2, le + 2 + n));
        p = le + 2 + n + 2;
      }
    }
    if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (buf.length < start + n) return closed ? { status, headers, body: buf.subarray(start) } : undefined;
      return { status, headers, body: buf.subarray(start, start + n) };
    }
    return closed ? { status, headers, body: buf.subarray(start) } : undefined;
  }
}

// ---- requests ----

export interface Req {
  method: string;
  /** The request target exactly as written on the request line. */
  target: string;
  headers: [string, string][];
  body?: Buffer;
  /** Send the body chunked instead of with Content-Length. */
  chunked?: boolean;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

// ---- the rules every answer is held to ----

/** API.md §6: the status each ZooKeeper error may be answered with. */
const TABLE: Record<number, Record<string, number>> = {
  400: { BadArguments: -8, InvalidACL: -114, NoChildrenForEphemerals: -108, MarshallingError: -5 },
  401: { AuthFailed: -115 },
  403: { NoAuth: -102 },
  404: { NoNode: -101, Unimplemented: -6 },
  405: { Unimplemented: -6 },
  409: { NodeExists: -110, NotEmpty: -111 },
  410: { SessionExpired: -112 },
  412: { BadVersion: -103 },
  // "request larger than jute.maxbuffer" (the README names it BadArguments)
  413: { BadArguments: -8 },
  503: { ConnectionLoss: -4 },
};

const RULES = {
  answered: 'the request is answered: the connection is not closed without an HTTP answer',
  noHang: `the answer comes within ${BOUND_MS / 1000} s`,
  no5xx: 'no 5xx other than 503',
  no503Idle: 'no 503 from an idle standalone node unless the request asked to wait for a ZK-Min-Zxid',
  retryAfter: 'a 503 carries Retry-After',
  errorJson: 'a non-HEAD error answer (status >= 400) is JSON {error: string, code: number, message: string, path?: string}',
  errorTable: "an error's status, name and code agree with API.md §6's table",
  allow: 'a 405 carries Allow',
  zxid: 'every answer carries ZK-Zxid: <decimal>',
} as const;
export type Rule = keyof typeof RULES;

interface Violation {
  rule: Rule;
  signature: string;
  example: string;
}

/** What is wrong with `a` as the answer to a `method` request; `asksToWait`: the request carried ZK-Min-Zxid. */
export function violations(method: string, a: Answer, asksToWait: boolean): [Rule, string][] {
  if (a.kind === 'timeout') return [['noHang', `no answer after ${BOUND_MS} ms`]];
  if (a.kind === 'closed') return [['answered', `closed after ${Math.round(a.ms)} ms with ${a.body.length} bytes received`]];
  const out: [Rule, string][] = [];
  const s = a.status;
  if (s >= 500 && s !== 503) out.push(['no5xx', `status ${s}`]);
  if (s === 503 && !asksToWait) out.push(['no503Idle', 'status 503']);
  if (s === 503 && a.headers['retry-after'] === undefined) out.push(['retryAfter', 'no Retry-After']);
  if (s === 405 && a.headers['allow'] === undefined) out.push(['allow', 'no Allow']);
  if (!/^\d+$/.test(a.headers['zk-zxid'] ?? '')) out.push(['zxid', `ZK-Zxid ${JSON.stringify(a.headers['zk-zxid'])}`]);
  if (s >= 400) {
    const row = TABLE[s];
    if (method === 'HEAD') {
      if (row === undefined) out.push(['errorTable', `HEAD answered ${s}, a status not in the table`]);
    } else {
      let e: unknown;
      try {
        if (!/json/i.test(a.headers['content-type'] ?? '')) throw new Error(`content-type ${JSON.stringify(a.headers['content-type'])}`);
        e = JSON.parse(a.body.toString('utf8'));
      } catch (err) {
        out.push(['errorJson', `${(err as Error).message}; body ${JSON.stringify(a.body.subarray(0, 120).toString('utf8'))}`]);
        if (row === undefined) out.push(['errorTable', `status ${s} is not in the table`]);
        return out;
      }
      const b = e as { error?: unknown; code?: unknown; message?: unknown; path?: unknown };
      if (typeof e !== 'object' || e === null || typeof b.error !== 'string' || typeof b.code !== 'number' || typeof b.message !== 'string' || (b.path !== undefined && typeof b.path !== 'string')) {
        out.push(['errorJson', `body ${JSON.stringify(a.body.subarray(0, 160).toString('utf8'))}`]);
      } else if (row === undefined || row[b.error] !== b.code) {
        out.push(['errorTable', `${s} ${b.error} (${b.code})`]);
      }
    }
  }
  return out;
}

/** The violations of one property, per rule: the first example of each distinct signature, and how many in all. */
export class Collector {
  private readonly found = new Map<Rule, Violation[]>();
  private readonly counts = new Map<Rule, number>();
  sent = 0;

  add(rule: Rule, signature: string, example: string): void {
    const list = this.found.get(rule) ?? [];
    if (!list.some((v) => v.signature === signature)) list.push({ rule, signature, example });
    this.found.set(rule, list);
    this.counts.set(rule, (this.counts.get(rule) ?? 0) + 1);
  }

  /** One assertion per rule: none broken, else the distinct examples. */
  report(t: Test, rules: Rule[]): void {
    for (const rule of rules) {
      const list = this.found.get(rule) ?? [];
      if (list.length === 0) t.pass(RULES[rule]);
      else {
        t.fail(`${RULES[rule]}: broken by ${this.counts.get(rule)} of ${this.sent} requests (seed ${SEED}), ${list.length} distinct`, {
          diagnostic: true,
          examples: list.slice(0, 20).map((v) => `[${v.signature}] ${v.example}`),
        });
      }
    }
  }
}

/** A short name for the route a target aims at, for telling examples apart. */
function routeOf(target: string): string {
  const path = target.replace(/^[a-z]+:\/\/[^/]*/i, '').split('?')[0] ?? '';
  const m = /^\/v1\/(znodes|acl|multi|sync|sessions|admin|recipes|watch)(\/[^/]*)?/.exec(path);
  if (!m) return path.slice(0, 20);
  if (m[1] === 'admin' || m[1] === 'recipes') return `/v1/${m[1]}${(m[2] ?? '').slice(0, 12)}`;
  return `/v1/${m[1]}`;
}

// ---- talking to the node ----

/**
 * Raw exchanges with the node at `portNow()` (a getter: one property aims at a second node for a while), and the
 * properties and health checks built on them; `logged` and `unhandled` are what startFuzzNode watches.
 */
export function fuzzer(portNow: () => number, logged: LogLine[], unhandled: string[]) {
  /**
   * Writes `bytes` on a new connection and reads the first final answer. `halfClose` ends the client's side after
   * writing, so a request the bytes leave unfinished is the server's to refuse rather than to wait for.
   */
  function exchange(bytes: Buffer, head: boolean, halfClose = false): Promise<Answer> {
    const t0 = performance.now();
    return new Promise((resolve) => {
      const sock = net.connect(portNow(), '127.0.0.1');
      let buf = Buffer.alloc(0);
      let done = false;
      const finish = (a: Omit<Answer, 'ms'>) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        resolve({ ...a, ms: performance.now() - t0 });
      };
      const timer = setTimeout(() => finish({ kind: 'timeout', status: 0, headers: {}, body: buf }), BOUND_MS);
      sock.on('error', () => {}); // a reset after the answer (a body refused while still being sent) changes nothing
      sock.on('connect', () => sock.write(bytes, () => (halfClose ? sock.end() : undefined)));
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const a = parseAnswer(buf, head, false);
        if (a) finish({ kind: 'answer', ...a });
      });
      sock.on('close', () => {
        const a = parseAnswer(buf, head, true);
        finish(a ? { kind: 'answer', ...a } : { kind: 'closed', status: 0, headers: {}, body: buf });
      });
    });
  }

  function encode(r: Req): Buffer {
    let head = `${r.method} ${r.target} HTTP/1.1\r\nHost: 127.0.0.1:${portNow()}\r\n`;
    for (const [k, v] of r.headers) head += `${k}: ${v}\r\n`;
    if (r.body !== undefined) head += r.chunked ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${r.body.length}\r\n`;
    head += '\r\n';
    const parts: Buffer[] = [Buffer.from(head, 'utf8')];
    if (r.body !== undefined) {
      if (r.chunked) {
        // Two chunks when there is anything to split, then the last chunk.
        const cut = r.body.length >> 1;
        for (const piece of [r.body.subarray(0, cut), r.body.subarray(cut)]) {
          if (piece.length > 0) parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
        }
        parts.push(Buffer.from('0\r\n\r\n'));
      } else parts.push(r.body);
    }
    return Buffer.concat(parts);
  }

  /** The request as a curl command (when curl can send it) and as the exact bytes. */
  function describe(r: Req | Buffer): string {
    const bytes = Buffer.isBuffer(r) ? r : encode(r);
    const raw = JSON.stringify(bytes.subarray(0, 600).toString('latin1')) + (bytes.length > 600 ? ` …(${bytes.length} bytes)` : '');
    if (Buffer.isBuffer(r)) return `bytes: ${raw}`;
    const parts = ['curl -sS -i', r.method === 'HEAD' ? '-I' : `-X ${r.method}`];
    for (const [k, v] of r.headers) parts.push(`-H ${shellQuote(`${k}: ${v.length > 200 ? v.slice(0, 200) + '…' : v}`)}`);
    if (r.chunked) parts.push(`-H 'Transfer-Encoding: chunked'`);
    if (r.body !== undefined) {
      const text = r.body.toString('utf8');
      parts.push(r.body.length <= 300 && Buffer.from(text, 'utf8').equals(r.body) ? `--data-binary ${shellQuote(text)}` : `--data-binary @<${r.body.length} bytes>`);
    }
    parts.push(shellQuote(`http://127.0.0.1:${portNow()}` + (r.target.length > 300 ? r.target.slice(0, 300) + '…' : r.target)));
    return `${parts.join(' ')}\n    bytes: ${raw}`;
  }

  async function sendAndCheck(c: Collector, r: Req): Promise<void> {
    c.sent++;
    const a = await exchange(encode(r), r.method === 'HEAD');
    const asksToWait = r.headers.some(([k]) => k.toLowerCase() === 'zk-min-zxid');
    for (const [rule, detail] of violations(r.method, a, asksToWait)) {
      const error = a.kind === 'answer' ? (/"error":"([A-Za-z]+)"/.exec(a.body.toString('utf8'))?.[1] ?? '-') : a.kind;
      c.add(rule, `${r.method} ${routeOf(r.target)} → ${a.status} ${error}`, `${detail}\n    ${describe(r)}`);
    }
  }

  /** After a property: the node answers, logged no error, and the process saw nothing unhandled. */
  async function stillHealthy(t: Test, since: number): Promise<void> {
    const a = await exchange(Buffer.from(`GET /v1/admin/ruok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`), false);
    t.equal(`${a.status} ${a.body.toString('utf8')}`, '200 imok', 'the node still answers GET /v1/admin/ruok with imok');
    const errors = logged.slice(since).filter((l) => l.level >= 50);
    t.same(
      errors.map((l) => `${l.msg ?? ''}: ${l.err?.stack ?? l.err?.message ?? ''}`.slice(0, 800)),
      [],
      'the node logged nothing at error level',
    );
    t.same(unhandled.splice(0), [], 'no unhandled rejection or uncaught exception in the process');
  }

  async function runProperty(t: Test, arb: fc.Arbitrary<Req>, numRuns: number, seed: number, rules: Rule[] = Object.keys(RULES) as Rule[]): Promise<void> {
    const since = logged.length;
    const c = new Collector();
    const details = await fc.check(
      fc.asyncProperty(arb, async (r) => {
        await sendAndCheck(c, r);
        return true;
      }),
      { numRuns, seed },
    );
    // The predicate never fails: a failed check here is the harness's own error (a generator that threw).
    t.equal(details.failed, false, `all ${numRuns} requests were sent${details.failed ? `: ${String(details.errorInstance)}` : ''}`);
    c.report(t, rules);
    await stillHealthy(t, since);
  }

  return { exchange, encode, describe, stillHealthy, runProperty };
}
