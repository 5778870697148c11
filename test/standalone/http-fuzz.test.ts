// Input robustness of the HTTP API against a real standalone node (real LMDB, real HTTP on a loopback port), under
// random requests built by fast-check. API.md §6: "No input a client can send yields a 5xx other than 503, a crash,
// or a hang", every error is JSON {error, code, message, path?} with ZooKeeper's name and code, and the HTTP status
// follows §6's fixed table (405 with Allow, 503 with Retry-After); §3: every response carries ZK-Zxid.
//
// Requests are written byte for byte on a raw TCP connection (no client library normalises the method, the request
// target or the headers), one connection each, and every answer is checked against the rules below. A property does
// not stop at its first counterexample: every request of a run is checked, the violations are collected per rule,
// and each rule is one assertion listing up to 20 distinct examples (by rule, method, route, status and error name),
// each with the request as bytes and as a curl command. After each property the node must still answer
// `GET /v1/admin/ruok`, must have logged nothing at error level, and the process must have seen no unhandled
// rejection or uncaught exception.
//
// The properties: /v1/znodes (methods, paths, query strings, headers, raw bodies around jute.maxbuffer); /v1/multi
// (op arrays of right and wrong shapes, non-JSON); /v1/sessions, /v1/sync and /v1/acl; admin, recipes, /v1/watch
// without an upgrade, docs and unknown routes; all of them against a second node with corsAllowOrigins (the CORS
// plugin's preflight route); clients that hang up mid-request or mid-wait (only the node's health is checked); and
// bytes that are not valid HTTP (hand-written cases and random damage to a valid request), which may also be answered
// by closing the connection.
//
// Seeds are fixed. HTTP_FUZZ_SEED=<n> and HTTP_FUZZ_SCALE=<factor of the run counts> explore further (a failing
// example is replayed with the seed it names).
import t, { type Test } from 'tap';
import fc from 'fast-check';
import net from 'node:net';
import { startTestServer } from '../helpers/server.js';
import { logInto } from '../helpers/log.js';

const MAX = 4096; // jute.maxbuffer for this node: bodies just under, at and over it are cheap to send
const BOUND_MS = 10_000; // an answer later than this is a hang
const SEED = process.env.HTTP_FUZZ_SEED !== undefined ? Number(process.env.HTTP_FUZZ_SEED) : 0x5eed;
const SCALE = Number(process.env.HTTP_FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

// ---- what the process and the node report besides answers ----

interface LogLine {
  level: number;
  msg?: string;
  err?: { message?: string; stack?: string };
}
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
    // A request left unfinished is answered 400 MarshallingError within a few seconds (the raw-socket property checks how).
    httpRequestTimeoutMs: 3000,
  },
  logInto(logged, 'warn'),
);
t.teardown(async () => {
  await server.destroy();
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);
});
const PORT = server.port;
const ORIGIN = `http://127.0.0.1:${PORT}`;
/** The node requests go to: this one, or for one property a node with CORS turned on. */
let port = PORT;

// ---- a raw HTTP/1.1 exchange ----

interface Answer {
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

/**
 * Writes `bytes` on a new connection and reads the first final answer. `halfClose` ends the client's side after
 * writing, so a request the bytes leave unfinished is the server's to refuse rather than to wait for.
 */
function exchange(bytes: Buffer, head: boolean, halfClose = false): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
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

// ---- requests ----

interface Req {
  method: string;
  /** The request target exactly as written on the request line. */
  target: string;
  headers: [string, string][];
  body?: Buffer;
  /** Send the body chunked instead of with Content-Length. */
  chunked?: boolean;
}

function encode(r: Req): Buffer {
  let head = `${r.method} ${r.target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`;
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

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

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
  parts.push(shellQuote(`http://127.0.0.1:${port}` + (r.target.length > 300 ? r.target.slice(0, 300) + '…' : r.target)));
  return `${parts.join(' ')}\n    bytes: ${raw}`;
}

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
type Rule = keyof typeof RULES;

interface Violation {
  rule: Rule;
  signature: string;
  example: string;
}

/** What is wrong with `a` as the answer to a `method` request; `asksToWait`: the request carried ZK-Min-Zxid. */
function violations(method: string, a: Answer, asksToWait: boolean): [Rule, string][] {
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
class Collector {
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

// ---- fixtures: a small tree and sessions to aim at ----

async function simple(method: string, target: string, body?: string, headers: [string, string][] = []): Promise<Answer> {
  return exchange(encode({ method, target, headers, body: body === undefined ? undefined : Buffer.from(body) }), method === 'HEAD');
}
for (const p of ['/a', '/a/b', '/a/b/c', '/m', '/q', '/locked']) await simple('POST', `/v1/znodes${p}`, 'v');
await simple('PUT', '/v1/acl/locked', JSON.stringify({ acl: [{ scheme: 'digest', id: 'bob:DRT3ZLaEIlF0BwKbR1gwtb6YsNM=', perms: 'cdrwa' }] }), [['Content-Type', 'application/json']]);
const sessionOf = async (timeoutMs: number) => JSON.parse((await simple('POST', '/v1/sessions', JSON.stringify({ timeoutMs }), [['Content-Type', 'application/json']])).body.toString()).sessionId as string;
const live = await sessionOf(40000);
const victim = await sessionOf(40000); // the fuzz may close this one
const closed = await sessionOf(40000);
await simple('DELETE', `/v1/sessions/${closed}`);
await simple('POST', '/v1/znodes/eph?ephemeral', 'e', [['ZK-Session', live]]);
const shouted = '0X' + live.slice(2).toUpperCase().padStart(16, '0');

// ---- generators ----

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}$/);

/** One path segment as written in a URL. */
const segment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'c', 'm', 'q', 'x', 'eph', 'locked') },
  { weight: 3, arbitrary: name },
  {
    weight: 5,
    arbitrary: fc.constantFrom(
      '%2F', '%2f', '%2Fa%2Fb', '%00', '%zz', '%', '%4', '%G1', '%C3%BC', '%E2%82', '%ED%A0%80', '%EF%BF%BF', '%EF%BF%BD', '%7F', '%0A',
      '%0D%0A', '%20', '%25', '%3F', '%23', '%2e', '%2E%2E', '.', '..', '...', '', 'zookeeper', 'quota', 'config', 'n_0000000001',
      '%F0%9F%98%80', '%C0%AF', '%E0%80%AF', "~!$&'()*+,;=:@", '%5C', '\\', 'a;b', 'a,b', '[x]', '{x}', '|',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) }, // raw: unicode, controls, spaces
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.constantFrom(255, 1000, 1899, 1901, 3000, 8000).map((n) => 'x'.repeat(n)) },
);

/** The part of a znode or ACL URL after its prefix. */
const znodeTail = fc
  .tuple(
    fc.constantFrom('', '', '', '/zookeeper', '/zookeeper/config', '/zookeeper/quota', '/a', '/a/b'),
    fc.array(segment, { maxLength: 4 }),
    fc.constantFrom('', '', '', '', '/', '//'),
  )
  .map(([prefix, segs, trail]) => {
    const joined = prefix + segs.map((s) => `/${s}`).join('');
    return (joined === '' ? '/' : joined) + trail;
  });

const flagValue = fc.constantFrom<string | undefined>(
  undefined, undefined, '', '0', '1', '-1', 'true', 'false', 'abc', '1e309', '1.5', '99999999999999999999', '2147483647', '2147483648',
  '-2147483649', '1099511627775', '1099511627776', '%zz', '%00', '%E2%82', 'world:anyone:cdrwa', 'world:anyone:r', 'world:anyone:', 'digest:bob:DRT3ZLaEIlF0BwKbR1gwtb6YsNM=:cdrwa',
  'digest:bob', 'ip:1.2.3.4/99:r', 'ip:::1/129:r', 'ip:300.1.1.1:r', 'auth::cdrwa', 'x509:CN=a:r', 'super:x:cdrwa', 'world:anyone:zz', 'base64',
  'utf8', 'linearizable', 'sequential', '10ms', '50ms', '0s', '0.2', '1s', '2m', '9999999999999s', 'Infinity', 'NaN', '0x10', ' 1',
);
const flagKey = fc.constantFrom(
  'sequential', 'ephemeral', 'container', 'ttl', 'parents', 'acl', 'version', 'recursive', 'children', 'stat', 'encoding', 'consistency',
  'wait', 'index', 'verison', 'x', '', '%zz', 'acl[]', 'acl[0]', '__proto__', 'constructor', 'hasOwnProperty', 'toString', 'a.b', '%61cl',
);
const query = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  {
    weight: 8,
    arbitrary: fc
      .array(fc.tuple(flagKey, flagValue), { minLength: 1, maxLength: 5 })
      .map((kv) => '?' + kv.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&')),
  },
  { weight: 1, arbitrary: fc.constantFrom('?', '??', '?&&', '?=', '?=1', '#frag', '?children#x', '?stat&stat&stat', '?acl=' + 'a'.repeat(3000)) },
);

/** A header present in about one request in five. */
const header = (nameArb: fc.Arbitrary<string>, values: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(nameArb, values) });
const headers = fc
  .tuple(
    header(fc.constantFrom('ZK-Session', 'zk-session'), fc.constantFrom(live, live, victim, closed, shouted, '0x1', '0x0', '0x', '0xffffffffffffffff', '0x1ffffffffffffffff', 'garbage', '', ' 0x1 ', '0x-1', `${live}, ${live}`, '0x' + 'f'.repeat(3000))),
    header(fc.constant('ZK-Min-Zxid'), fc.constantFrom('0', '1', '3', '-1', 'abc', '', ' 5 ', '1.5', '1e30', '0x10', '00000001', '99999999', '9007199254740993', '18446744073709551615', '18446744073709551616', '9'.repeat(400))),
    header(fc.constant('If-Match'), fc.constantFrom('"0"', '0', '-1', '"-1"', '*', 'W/"0"', '"0", "1"', 'abc', '"', '""', '', '99999999999999999999', '2147483648', '-2147483649', '1.0', '0x0')),
    header(fc.constant('Accept'), fc.constantFrom('application/octet-stream', 'application/json', 'application/json, application/octet-stream', 'text/plain', '*/*', 'garbage', '', 'text/html;q=0.9')),
    header(fc.constant('Content-Type'), fc.constantFrom('application/json', 'application/octet-stream', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'garbage', '', ';;;', 'application/json;;')),
    header(
      fc.constant('Authorization'),
      fc.constantFrom(`Basic ${b64('bob:pw')}`, `Basic ${b64('super:pw')}`, `Basic ${b64('u:p')}`, 'Basic !!!', 'Basic', 'Basic ', `Basic ${b64('nocolon')}`, `Basic ${b64(':p')}`, `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x80]).toString('base64')}`, 'Digest username="x"', 'Bearer y', `Basic ${'A'.repeat(5000)}`),
    ),
    header(fc.constant('Origin'), fc.constantFrom('http://evil.example', 'http://ok.example', 'null', ORIGIN, `http://localhost:${PORT}`, '', 'file://')),
    header(fc.constant('Expect'), fc.constantFrom('100-continue', '100-continue', '100-continue', '100-continue', '100-continue', '100-continue', '100-continue', '100-continue', '100-continue', 'nonsense')),
    header(fc.constantFrom('Upgrade', 'Connection', 'X-Forwarded-Host', 'X-Request-Id', 'Accept-Encoding', 'Content-Encoding'), fc.constantFrom('websocket', 'h2c', 'close', 'keep-alive', 'Upgrade', 'evil.example', 'gzip, br', '', 'x'.repeat(2000))),
    header(fc.constant('Access-Control-Request-Method'), fc.constantFrom('PUT', 'GET', 'DELETE', 'PATCH', 'X', '')),
  )
  .map((hs) => hs.filter((h): h is [string, string] => h !== undefined));

const jsonAny = fc.jsonValue({ maxDepth: 3 });
/** Bytes of a size that matters (around jute.maxbuffer) or random ones. */
const rawBody = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Buffer | undefined>(undefined) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)) },
  { weight: 2, arbitrary: fc.constantFrom('', 'x', 'hello', '{}', '\u00e9\u0000').map((s) => Buffer.from(s)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(MAX - 1, MAX, MAX + 1, 2 * MAX, 16 * MAX), fc.boolean()).map(([n, random]) => (random ? Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919) & 0xff)) : Buffer.alloc(n, 'a'))) },
  { weight: 1, arbitrary: jsonAny.map((j) => Buffer.from(JSON.stringify(j))) },
);

const METHODS = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'DELETE') },
  { weight: 2, arbitrary: fc.constantFrom('PATCH', 'OPTIONS') },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'MKCOL', 'SEARCH', 'PURGE', 'LINK', 'QUERY', 'REPORT', 'get', 'FOO', 'G ET', 'GET\u0000') },
);

function withBody(method: fc.Arbitrary<string>, target: fc.Arbitrary<string>, body: fc.Arbitrary<Buffer | undefined>): fc.Arbitrary<Req> {
  return fc.record({ method, target, headers, body, chunked: fc.boolean() }).map((r) => ({ ...r, chunked: r.body !== undefined && r.chunked }));
}

// /v1/znodes: every method, every kind of path, query and header, raw bodies.
const znodeReq = withBody(
  METHODS,
  fc.oneof(
    { weight: 12, arbitrary: fc.tuple(znodeTail, query).map(([p, q]) => `/v1/znodes${p}${q}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('/v1/znodes', '/v1/znodes//', '/v1/znodes/./a', '/v1/znodes/../admin/ruok', '/v1//znodes/a', `${ORIGIN}/v1/znodes/a`, `HTTP://127.0.0.1:${PORT}/v1/znodes/a/b`, `http://x/v1/znodes`), query).map(([p, q]) => p + q) },
  ),
  rawBody,
);

// /v1/multi: op arrays of the right and the wrong shapes.
const jsonPath = fc.oneof(
  fc.constantFrom('/a', '/a/b', '/m', '/m/x', '/q/n-', '/zookeeper', '/zookeeper/quota', '/', '', 'rel', '/a/', '//a', '/a/../b', '/\u0000', '/\ud800', '/\uffff', '/' + 'x'.repeat(1950), '/ü'),
  znodeTail,
  fc.string({ maxLength: 8 }),
);
const modeArb = fc.oneof(fc.constantFrom('PERSISTENT', 'EPHEMERAL', 'PERSISTENT_SEQUENTIAL', 'EPHEMERAL_SEQUENTIAL', 'CONTAINER', 'PERSISTENT_WITH_TTL', 'PERSISTENT_SEQUENTIAL_WITH_TTL', 'persistent', 'X', ''), jsonAny);
const intish = fc.oneof(fc.constantFrom(-1, 0, 1, 2147483647, 2147483648, -2147483648, -2147483649, 1.5, 1e308, 2 ** 40, 2 ** 40 - 1, -0, 2 ** 53 + 2), jsonAny);
const aclEntry = fc.oneof(
  fc.constantFrom('world:anyone:cdrwa', 'world:anyone:r', 'digest:bob:DRT3ZLaEIlF0BwKbR1gwtb6YsNM=:cdrwa', 'ip:1.2.3.4/40:r', 'bad', 'auth::x', '', ':::'),
  fc.record(
    {
      scheme: fc.oneof(fc.constantFrom('world', 'auth', 'digest', 'ip', 'x509', 'super', 'sasl', '', 'WORLD'), jsonAny),
      id: fc.oneof(fc.constantFrom('anyone', '', 'bob:DRT3ZLaEIlF0BwKbR1gwtb6YsNM=', 'bob', 'bob:x:y', '1.2.3.4', '1.2.3.4/33', '::1/129', '256.1.1.1', '10.0.0.0/8', 'CN=a'), jsonAny),
      perms: fc.oneof(fc.constantFrom('cdrwa', '', 'r', 'z', 'rr', 'CDRWA', 'cdrwax'), jsonAny),
    },
    { requiredKeys: [] },
  ),
  jsonAny,
);
const multiOp = fc.record(
  {
    op: fc.oneof(fc.constantFrom('create', 'set', 'delete', 'check', 'get', 'children', 'create', 'check'), fc.constantFrom('bogus', 'CREATE', ''), jsonAny),
    path: jsonPath,
    data: fc.oneof(fc.string({ maxLength: 16 }), fc.base64String({ maxLength: 16 }), fc.constantFrom('!!!', 'QQ', 'Q===', 'QQ=='), jsonAny),
    encoding: fc.oneof(fc.constantFrom('utf8', 'base64', 'hex'), jsonAny),
    version: intish,
    mode: modeArb,
    ttl: intish,
    acl: fc.oneof(fc.array(aclEntry, { maxLength: 3 }), jsonAny),
    extra: jsonAny,
  },
  { requiredKeys: ['op', 'path'] },
);
const multiBody = fc.oneof(
  { weight: 8, arbitrary: fc.array(multiOp, { maxLength: 6 }).map((ops) => JSON.stringify({ ops })) },
  { weight: 2, arbitrary: jsonAny.map((ops) => JSON.stringify({ ops })) },
  { weight: 1, arbitrary: jsonAny.map((j) => JSON.stringify(j)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '', '{', '{"ops":[', 'null', '[]', '{"ops":[]}', '{"ops":null}', '\ufeff{"ops":[{"op":"check","path":"/a"}]}', '{"ops":[{"op":"get","path":"/a"}],"ops":5}',
      '{"__proto__":{"ops":[]}}', '{"constructor":{"prototype":{"x":1}},"ops":[{"op":"get","path":"/a"}]}', '{"ops":[{"op":"get","path":"\\ud800"}]}',
      '{"ops":[{"op":"create","path":"/m/n","data":"\\u0000"}]}', '[' .repeat(1500) + ']'.repeat(1500), '{"a":'.repeat(700) + '1' + '}'.repeat(700),
      JSON.stringify({ ops: Array.from({ length: 150 }, () => ({ op: 'check', path: '/a' })) }),
      JSON.stringify({ ops: Array.from({ length: 90 }, (_, i) => ({ op: 'create', path: `/m/n${i}` })) }),
      JSON.stringify({ ops: [{ op: 'create', path: '/m/big', data: 'x'.repeat(MAX - 60) }] }),
      JSON.stringify({ ops: [{ op: 'create', path: '/m/big', data: 'x'.repeat(MAX) }] }),
      '{"ops":[{"op":"check","path":"/a","version":1e400}]}', '{"ops":[{"op":"create","path":"/m/t","mode":"PERSISTENT_WITH_TTL","ttl":-0}]}',
    ),
  },
);
const jsonCt = fc.constantFrom<[string, string][]>([['Content-Type', 'application/json']], [['Content-Type', 'application/json']], [['Content-Type', 'application/json; charset=utf-8']], [], [['Content-Type', 'text/plain']], [['Content-Type', 'application/json'], ['Content-Type', 'text/plain']]);

function jsonReq(method: fc.Arbitrary<string>, target: fc.Arbitrary<string>, body: fc.Arbitrary<string>): fc.Arbitrary<Req> {
  return fc.record({ method, target, ct: jsonCt, hs: headers, body, chunked: fc.boolean() }).map(({ method, target, ct, hs, body, chunked }) => ({
    method,
    target,
    headers: [...ct, ...hs.filter(([k]) => k.toLowerCase() !== 'content-type')],
    body: Buffer.from(body, 'utf8'),
    chunked,
  }));
}

const multiReq = jsonReq(
  fc.oneof({ weight: 10, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') }),
  fc.oneof({ weight: 10, arbitrary: fc.constant('/v1/multi') }, { weight: 1, arbitrary: fc.constantFrom('/v1/multi/', '/v1/multi?x', '/v1/multi?', '/v1/multi/a', '/v1/MULTI') }),
  multiBody,
);

// /v1/sessions, /v1/sync and /v1/acl.
const sessionId = fc.constantFrom(live, victim, closed, shouted, '0x1', '0x0', '0x', '0xzz', 'garbage', '%20', '0x' + 'f'.repeat(17), '0xffffffffffffffff', '%00', '..', 'x'.repeat(3000));
const timeoutBody = fc.oneof(
  fc.constantFrom(0, -1, 1, 3999, 4000, 40001, 1.5, 1e308, 2 ** 31, 2 ** 53, 'x', null, true, [], {}).map((v) => JSON.stringify({ timeoutMs: v })),
  fc.constantFrom('{"timeoutMs":9223372036854775808}', '{"timeoutMs":1e400}', '{"timeoutMs":-0}', '', '{', 'null', '[]', '{}', '{"x":1}', '{"timeoutMs":5000,"extra":[1]}'),
  jsonAny.map((j) => JSON.stringify(j)),
);
const aclBody = fc.oneof(
  { weight: 6, arbitrary: fc.array(aclEntry, { maxLength: 4 }).map((acl) => JSON.stringify({ acl })) },
  { weight: 1, arbitrary: jsonAny.map((acl) => JSON.stringify({ acl })) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '{"acl":[]}', JSON.stringify({ acl: Array.from({ length: 90 }, () => ({ scheme: 'world', id: 'anyone', perms: 'r' })) })) },
);
const sessionsReq = fc.oneof(
  jsonReq(
    fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'HEAD') }),
    fc.constantFrom('/v1/sessions', '/v1/sessions', '/v1/sessions/', '/v1/sessions?x=1'),
    timeoutBody,
  ),
  withBody(
    fc.oneof({ weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE') }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'HEAD', 'PATCH', 'OPTIONS') }),
    fc.tuple(sessionId, fc.constantFrom('', '', '/keepalive', '/keepalive', '/x', '/keepalive/x', '/')).map(([id, tail]) => `/v1/sessions/${id}${tail}`),
    fc.oneof(fc.constant(undefined), fc.constantFrom('', '{}', '{"timeoutMs":1}').map((s) => Buffer.from(s))),
  ),
  withBody(fc.constantFrom('POST', 'POST', 'GET', 'PUT'), fc.constantFrom('/v1/sync', '/v1/sync?x', '/v1/sync/', '/v1/sync/a'), rawBody),
  jsonReq(
    fc.oneof({ weight: 6, arbitrary: fc.constant('PUT') }, { weight: 3, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('POST', 'DELETE', 'HEAD') }),
    fc.oneof({ weight: 8, arbitrary: fc.tuple(znodeTail, query).map(([p, q]) => `/v1/acl${p}${q}`) }, { weight: 1, arbitrary: fc.constantFrom('/v1/acl', '/v1/acl/', '/v1/acl//') }),
    aclBody,
  ),
);

// Every other route: admin, recipes, the watch endpoint without an upgrade, docs, unknown routes.
const otherTarget = fc.oneof(
  fc.constantFrom('ruok', 'ready', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'wchs', 'wchc', 'wchp', 'dump', 'envi', 'cluster', 'snapshot', 'bogus', 'RUOK', '', 'ruok/x').map((w) => `/v1/admin/${w}`),
  fc.tuple(fc.constantFrom('locks', 'elections', 'queues', 'bogus'), segment, fc.constantFrom('', '/campaign', '/resign', '/leader', '/poll', '/x'), fc.constantFrom('', '?wait=50ms', '?wait=1s', '?wait=x', '?wait=-1', '?x')).map(([kind, n, tail, q]) => `/v1/recipes/${kind}/${n}${tail}${q}`),
  fc.constantFrom('/v1/watch', '/v1/watch?x=1', '/v1/watch/', '/metrics', '/openapi.json', '/docs', '/docs/', '/docs/static/index.html', '/docs/json', '/', '/v1', '/v1/', '/v2/znodes/a', '*', '/favicon.ico', '/v1/admin/../znodes/a', '/%2e%2e/v1/admin/ruok', '/v1/%7a%6e%6f%64%65%73/a'),
);
const otherReq = withBody(
  fc.oneof({ weight: 8, arbitrary: fc.constantFrom('GET', 'POST') }, { weight: 3, arbitrary: fc.constantFrom('HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') }),
  otherTarget,
  rawBody,
);

// ---- the properties ----

t.test('/v1/znodes: random methods, paths, query strings, headers and bodies', async (t) => {
  await runProperty(t, znodeReq, runs(500), SEED);
});

t.test('/v1/multi: random op arrays, wrong types, unknown ops, nesting, sizes, non-JSON', async (t) => {
  await runProperty(t, multiReq, runs(220), SEED + 1);
});

t.test('/v1/sessions, /v1/sync and /v1/acl: odd ids, timeouts and ACL lists', async (t) => {
  await runProperty(t, sessionsReq, runs(260), SEED + 2);
});

t.test('admin, recipes, /v1/watch without an upgrade, docs and unknown routes', async (t) => {
  await runProperty(t, otherReq, runs(180), SEED + 3);
});

t.test('a node with corsAllowOrigins: preflights, origins and every route family', async (t) => {
  // @fastify/cors adds its own OPTIONS route and hooks; the same rules hold for every answer.
  const cors = await startTestServer(
    { juteMaxBuffer: MAX, minZxidWaitMs: 200, blockingReadMaxWaitMs: 300, recipeMaxWaitMs: 300, httpRequestTimeoutMs: 3000, corsAllowOrigins: ['http://ok.example'] },
    logInto(logged, 'warn'),
  );
  port = cors.port;
  try {
    const preflight = fc.record({
      req: fc.oneof(znodeReq, multiReq, sessionsReq, otherReq),
      method: fc.constantFrom('OPTIONS', 'OPTIONS', 'GET', 'POST'),
      origin: fc.constantFrom<[string, string][]>([['Origin', 'http://ok.example']], [['Origin', 'http://ok.example'], ['Access-Control-Request-Method', 'PUT']], [['Origin', 'http://evil.example'], ['Access-Control-Request-Method', 'GET']], []),
    });
    await runProperty(t, preflight.map(({ req, method, origin }) => ({ ...req, method: req.method === 'GET' || req.method === 'POST' ? req.method : method, headers: [...origin, ...req.headers.filter(([k]) => k !== 'Origin')] })), runs(200), SEED + 6);
  } finally {
    port = PORT;
    await cors.destroy();
  }
});

// ---- clients that hang up ----

/**
 * Writes the first `cut` bytes of a request, waits `delayMs` (the request may be answered, waiting, or half-sent by
 * then) and drops the connection, with a FIN or a reset.
 */
function hangUp(bytes: Buffer, cut: number, delayMs: number, reset: boolean): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => {});
    sock.on('close', () => resolve());
    sock.on('connect', () => {
      sock.write(bytes.subarray(0, cut));
      setTimeout(() => (reset ? sock.resetAndDestroy() : sock.destroy()), delayMs);
    });
  });
}

t.test('clients that hang up mid-request or while waiting leave the node healthy', async (t) => {
  const since = logged.length;
  const anyReq = fc.oneof(znodeReq, multiReq, sessionsReq, otherReq);
  const details = await fc.check(
    fc.asyncProperty(anyReq, fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0, 1, 5, 20, 60), fc.boolean(), async (r, at, delayMs, reset) => {
      const bytes = encode(r);
      await hangUp(bytes, at > 0.7 ? bytes.length : Math.floor(at * bytes.length), delayMs, reset);
      return true;
    }),
    { numRuns: runs(150), seed: SEED + 5 },
  );
  t.equal(details.failed, false, 'all requests were sent and dropped');
  // Past every wait a request may have started (blocking reads, recipes and ZK-Min-Zxid end within 300 ms here).
  await new Promise((r) => setTimeout(r, 500));
  await stillHealthy(t, since);
});

// ---- requests that are not valid HTTP ----

const valid = `POST /v1/znodes/raw?parents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello`;
/** Malformed requests written by hand: each must be answered 4xx (a ZooKeeper-style error) or have its connection closed. */
const MALFORMED: [string, string][] = [
  ['garbage request line', 'HELLO\r\n\r\n'],
  ['binary noise', '\u0000\u0001\u0002\u00ff\r\n\r\n'],
  ['no HTTP version', 'GET /v1/znodes/a\r\n\r\n'],
  ['HTTP/1.2', 'GET /v1/znodes/a HTTP/1.2\r\nHost: x\r\n\r\n'],
  ['HTTP/9.9', 'GET /v1/znodes/a HTTP/9.9\r\nHost: x\r\n\r\n'],
  ['lower-case method', 'get /v1/znodes/a HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['unknown method', 'FROB /v1/znodes/a HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['CONNECT', 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n'],
  ['space in the target', 'GET /v1/znodes/a b HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['control byte in the target', 'GET /v1/znodes/\u0001 HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['non-ASCII byte in the target', 'GET /v1/znodes/\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['relative target', 'GET v1/znodes/a HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['bare LF line ends', 'GET /v1/znodes/a HTTP/1.1\nHost: x\n\n'],
  ['NUL in a header value', 'GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n'],
  ['space before the colon', 'GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nX-A : b\r\n\r\n'],
  ['header without a colon', 'GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n'],
  ['obsolete line folding', 'GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n'],
  ['no Host header in HTTP/1.1', 'GET /v1/znodes/a HTTP/1.1\r\n\r\n'],
  ['two Host headers', 'GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'],
  ['headers over 16 KiB', `GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`],
  ['request line over 16 KiB', `GET /v1/znodes/${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
  ['Expect other than 100-continue', 'GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nExpect: nonsense\r\n\r\n'],
  ['Content-Length and Transfer-Encoding (smuggling)', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /v1/admin/ruok HTTP/1.1\r\nHost: x\r\n\r\n'],
  ['Transfer-Encoding: chunked twice', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding: gzip', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxx'],
  ['Transfer-Encoding with a space trick', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'],
  ['two different Content-Lengths', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
  ['negative Content-Length', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'],
  ['non-numeric Content-Length', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
  ['huge Content-Length', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\nab'],
  ['Content-Length longer than the body', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab'],
  ['bad chunk size', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n'],
  ['chunk longer than announced', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n'],
  ['chunk size overflow', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nab\r\n0\r\n\r\n'],
  ['chunked without the last chunk', 'POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n'],
  ['chunked over jute.maxbuffer', `POST /v1/znodes/sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${(MAX + 1).toString(16)}\r\n${'c'.repeat(MAX + 1)}\r\n0\r\n\r\n`],
  ['WebSocket upgrade to an unknown protocol', 'GET /v1/watch HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n'],
  ['WebSocket upgrade without a key', 'GET /v1/watch HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n'],
  ['WebSocket upgrade with a bad version', 'GET /v1/watch HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'],
  ['WebSocket upgrade with POST', 'POST /v1/watch HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'],
  ['WebSocket upgrade elsewhere', 'GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'],
  ['WebSocket upgrade with a bad Sec-WebSocket-Protocol', 'GET /v1/watch HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: a,,b\r\n\r\n'],
  ['h2c upgrade', 'GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n'],
  ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ['TLS ClientHello on the plain port', '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003'],
];

/** A malformed request is refused (4xx, a ZooKeeper-style error) or its connection closed; never a 5xx or a hang. */
function rawViolations(a: Answer): [Rule, string][] {
  if (a.kind === 'closed') return []; // closing the connection is an allowed answer to bytes that are not HTTP
  return violations('GET', a, false);
}

t.test('requests that are not valid HTTP: answered 4xx or closed, and the node stays up', async (t) => {
  const since = logged.length;
  const c = new Collector();
  // A request whose headers never end: answered 400 MarshallingError within httpRequestTimeoutMs (3 s) plus Node's check interval.
  const slow = (async () => {
    const head = Buffer.from('GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n');
    return exchange(head, false);
  })();
  for (const [what, text] of MALFORMED) {
    const bytes = Buffer.from(text, 'latin1');
    c.sent++;
    const a = await exchange(bytes, false, true);
    for (const [rule, detail] of rawViolations(a)) c.add(rule, `${what} → ${a.status}`, `${detail}\n    ${describe(bytes)}`);
  }
  // Random damage to a valid request: bytes replaced, inserted or cut.
  const damage = fc.array(fc.tuple(fc.nat(valid.length - 1), fc.constantFrom('replace', 'insert', 'delete'), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 });
  const details = await fc.check(
    fc.asyncProperty(damage, async (edits) => {
      const bytes = [...Buffer.from(valid, 'latin1')];
      for (const [at, how, byte] of edits) {
        const i = Math.min(at, bytes.length);
        if (how === 'replace') bytes[i] = byte;
        else if (how === 'insert') bytes.splice(i, 0, byte);
        else bytes.splice(i, 1);
      }
      const buf = Buffer.from(bytes);
      c.sent++;
      const a = await exchange(buf, false, true);
      for (const [rule, detail] of rawViolations(a)) c.add(rule, `damaged request → ${a.status}`, `${detail}\n    ${describe(buf)}`);
      return true;
    }),
    { numRuns: runs(150), seed: SEED + 4 },
  );
  t.equal(details.failed, false, 'all damaged requests were sent');
  c.sent++;
  const s = await slow;
  for (const [rule, detail] of rawViolations(s)) c.add(rule, `unfinished headers → ${s.status}`, `${detail}\n    ${describe(Buffer.from('GET /v1/znodes/a HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n'))} (and nothing more)`);
  t.ok(s.kind !== 'timeout', `a request left unfinished is refused within the bound (${s.kind} ${s.status} after ${Math.round(s.ms)} ms)`);
  c.report(t, ['noHang', 'no5xx', 'no503Idle', 'retryAfter', 'errorJson', 'errorTable', 'allow', 'zxid']);
  await stillHealthy(t, since);
});
