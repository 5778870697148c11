// Input robustness of the HTTP API against a real standalone node (real LMDB, real HTTP on a loopback port), under
// random requests to every route family built by fast-check, each answer held to the rules of http-fuzz-harness.ts.
//
// The properties: /v1/znodes (methods, paths, query strings, headers, raw bodies around jute.maxbuffer); /v1/multi
// (op arrays of right and wrong shapes, non-JSON); /v1/sessions, /v1/sync and /v1/acl; admin, recipes, /v1/watch
// without an upgrade, docs and unknown routes; all of them against a second node with corsAllowOrigins (the CORS
// plugin's preflight route); and clients that hang up mid-request or mid-wait (only the node's health is checked).
import t from 'tap';
import fc from 'fast-check';
import net from 'node:net';
import { startTestServer } from '../helpers/server.js';
import { logInto } from '../helpers/log.js';
import { fuzzer, MAX, runs, SEED, startFuzzNode, type Answer, type Req } from './http-fuzz-harness.js';

const { server, logged, unhandled } = await startFuzzNode(t);
const PORT = server.port;
const ORIGIN = `http://127.0.0.1:${PORT}`;
/** The node requests go to: this one, or for one property a node with CORS turned on. */
let port = PORT;
const { exchange, encode, runProperty, stillHealthy } = fuzzer(() => port, logged, unhandled);

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
  'limit', 'after',
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
  // Pages of a listing: limits around the bounds, `after` from empty to longer than any name (and than a key).
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('0', '1', '2', '10000', '10001', '-1', 'x', ''), fc.constantFrom(undefined, '', 'a', 'b', '%00', '%FF', '\u00e9', 'x'.repeat(1895), 'x'.repeat(1900), 'x'.repeat(5000)))
      .map(([limit, after]) => `?children&limit=${limit}` + (after === undefined ? '' : `&after=${after}`)),
  },
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
