// Input robustness of the HTTP API against bytes that are not valid HTTP on a real standalone node: hand-written cases
// and random damage to a valid request, each answered by the rules of http-fuzz-harness.ts or its connection closed.
import t from 'tap';
import fc from 'fast-check';
import { Collector, fuzzer, MAX, runs, SEED, startFuzzNode, violations, type Answer, type Rule } from './http-fuzz-harness.js';

const { server, logged, unhandled } = await startFuzzNode(t);
const { exchange, describe, stillHealthy } = fuzzer(() => server.port, logged, unhandled);

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
