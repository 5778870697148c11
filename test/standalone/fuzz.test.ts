// API.md §6 under random input: "No input a client can send yields a 5xx other than 503, a crash, or a hang", and
// every error is JSON {error, code, message}. fast-check builds requests from the pieces clients get wrong (bad
// percent-escapes, reserved paths, malformed flags and versions, stale sessions, broken credentials, JSON of the
// wrong shape, bodies over jute.maxbuffer) against every route family, and each answer is checked as it comes.
// Reproduce a failure with FC_SEED=<seed printed in the failure>.
import t from 'tap';
import fc from 'fast-check';
import { call, serverFor, type Res } from './http.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 600);

const { server } = await serverFor(t, { minZxidWaitMs: 200, juteMaxBuffer: 4096 });
const base = server.url;
await fetch(`${base}/v1/znodes/a`, { method: 'POST', body: 'x' });
const live = ((await (await fetch(`${base}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { sessionId: string }).sessionId;

const segment = fc.constantFrom('a', 'b', '%2F', '%00', '%', '%zz', '..', '.', '', 'zookeeper', 'quota', 'config', '%C3%BCn', '%20', '%E2%82', '%ED%A0%80', '%7F', 'x'.repeat(300), 'lock-', 'n0000000001');
const flag = fc.constantFrom(
  'children', 'stat', 'sequential', 'ephemeral', 'container', 'parents', 'recursive', 'ttl=', 'ttl=-1', 'ttl=abc', 'ttl=1000', 'ttl=1e309',
  'acl=world:anyone:cdrwa', 'acl=bad', 'acl=digest:x', 'acl=ip:1.2.3.4/99:r', 'acl=auth::cdrwa', 'acl=world:anyone:zz',
  'version=', 'version=-2', 'version=-1', 'version=1.5', 'version=99999999999999999999', 'version=0',
  'encoding=base64', 'encoding=xx', 'consistency=linearizable', 'consistency=x', 'wait=1s', 'wait=abc', 'wait=-1', 'index=abc', 'index=1',
  'children=1&children=2', '%zz=1', 'a=%',
);
const json = fc.constantFrom('1', '-1', '"x"', 'null', 'true', '[]', '{}', '1e999', '0.5', '"/a"');
const multiOp = fc
  .tuple(fc.constantFrom('create', 'set', 'delete', 'check', 'get', 'children', 'bogus'), fc.constantFrom('"/a"', '"/m/b"', '"rel"', '""', '"/zookeeper"', '1', 'null'), json, fc.constantFrom('"PERSISTENT"', '"EPHEMERAL"', '"X"', '"CONTAINER"', '"PERSISTENT_WITH_TTL"', '1'), json)
  .map(([op, path, version, mode, data]) => `{"op":"${op}","path":${path},"version":${version},"mode":${mode},"ttl":${version},"data":${data}}`);
const body = fc.oneof(
  fc.constantFrom('', 'x', '[1,2', 'null', '{"__proto__":{"x":1},"ops":[]}', 'a'.repeat(5000)),
  json.map((j) => `{"ops":${j}}`),
  fc.array(multiOp, { maxLength: 3 }).map((ops) => `{"ops":[${ops.join(',')}]}`),
  fc.tuple(fc.constantFrom('world', 'digest', 'ip', 'auth', 'x'), json, fc.constantFrom('"cdrwa"', '"r"', '""', '"z"', '31')).map(([scheme, id, perms]) => `{"acl":[{"scheme":"${scheme}","id":${id},"perms":${perms}}]}`),
  json.map((j) => `{"timeoutMs":${j}}`),
);
const target = fc.oneof(
  fc.tuple(fc.array(segment, { minLength: 1, maxLength: 3 })).map(([s]) => `/v1/znodes/${s.join('/')}`),
  segment.map((s) => `/v1/acl/${s}`),
  fc.constantFrom('/v1/multi', '/v1/sync', '/v1/sessions', `/v1/sessions/${live}`, `/v1/sessions/${live}/keepalive`, '/v1/sessions/0x1', '/v1/sessions/x/y'),
  fc.constantFrom('/v1/admin/ruok', '/v1/admin/srvr', '/v1/admin/mntr', '/v1/admin/cons', '/v1/admin/wchs', '/v1/admin/cluster', '/v1/admin/bogus', '/v1/', '/v1/znodes', '/metrics', '/openapi.json'),
);
const request = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'),
  target,
  flags: fc.array(flag, { maxLength: 2 }),
  body,
  ifMatch: fc.option(fc.constantFrom('"1"', 'abc', '-1', '"', '999999999999999999999', '*'), { nil: undefined }),
  minZxid: fc.option(fc.constantFrom('-1', 'abc', '1e30', '99999999', '0'), { nil: undefined }),
  session: fc.option(fc.constantFrom(live, '0x1', 'garbage', ''), { nil: undefined }),
  auth: fc.option(fc.constantFrom('Basic !!!', `Basic ${Buffer.from('u:p').toString('base64')}`, 'Bearer x', 'Basic ', `Basic ${Buffer.from('nocolon').toString('base64')}`), { nil: undefined }),
  accept: fc.option(fc.constantFrom('application/octet-stream', 'text/html', '*/*'), { nil: undefined }),
  contentType: fc.option(fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data', 'application/json; charset=latin1'), { nil: undefined }),
});
type Req = typeof request extends fc.Arbitrary<infer R> ? R : never;

/** The request through the tests' verbatim HTTP helper; the answer's status, headers and text. */
async function send(r: Req): Promise<{ status: number; headers: Res['headers']; text: string }> {
  const headers: Record<string, string> = {};
  if (r.ifMatch !== undefined) headers['if-match'] = r.ifMatch;
  if (r.minZxid !== undefined) headers['zk-min-zxid'] = r.minZxid;
  if (r.session !== undefined) headers['zk-session'] = r.session;
  if (r.auth !== undefined) headers.authorization = r.auth;
  if (r.accept !== undefined) headers.accept = r.accept;
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  const withBody = r.method !== 'GET' && r.method !== 'HEAD';
  const path = r.flags.length > 0 ? `${r.target}?${r.flags.join('&')}` : r.target;
  try {
    const res = await call(base, r.method, path, { headers, body: withBody ? r.body : undefined });
    return { status: res.status, headers: res.headers, text: res.raw.toString('utf8') };
  } catch (e) {
    // A body over the limit may be refused while it is still being sent (the answer, 413, then the close).
    const code = (e as NodeJS.ErrnoException).code;
    if (withBody && Buffer.byteLength(r.body) > 4096 && (code === 'EPIPE' || code === 'ECONNRESET')) return { status: 413, headers: {}, text: '' };
    throw e;
  }
}

async function check(r: Req): Promise<void> {
  const a = await send(r);
  const what = `${r.method} ${r.target}?${r.flags.join('&')} → ${a.status} ${a.text.slice(0, 200)}`;
  if (a.status >= 500 && a.status !== 503) throw new Error(`a 5xx other than 503: ${what}`);
  if (a.status === 503 && a.headers['retry-after'] === undefined) throw new Error(`503 without Retry-After: ${what}`);
  if (a.status >= 400 && r.method !== 'HEAD' && a.text !== '') {
    let e: { error?: unknown; code?: unknown; message?: unknown };
    try {
      e = JSON.parse(a.text) as typeof e;
    } catch {
      throw new Error(`an error that is not JSON: ${what}`);
    }
    if (typeof e.error !== 'string' || typeof e.code !== 'number' || typeof e.message !== 'string') throw new Error(`an error not shaped {error, code, message}: ${what}`);
  }
}

t.test('random requests get a ZooKeeper-style answer: never a 5xx but 503, never a hang, never a crash', async (t) => {
  const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const details = await fc.check(fc.asyncProperty(request, check), { numRuns: RUNS, seed, endOnFailure: true });
  if (details.failed) t.fail(`seed ${seed}: ${String(details.errorInstance)}\nrequest: ${JSON.stringify(details.counterexample)}`);
  else t.equal(details.numRuns, RUNS, `${RUNS} random requests answered within the rules`);
  const ruok = await fetch(`${base}/v1/admin/ruok`);
  t.equal(await ruok.text(), 'imok', 'the server still answers');
});
