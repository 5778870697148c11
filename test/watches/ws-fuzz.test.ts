// The /v1/watch WebSocket under random input, against a real standalone server (real LMDB, real HTTP/WS on a
// loopback port). API.md §5–6, docs/watches.md and the frame schemas in the OpenAPI spec are the oracle:
// - every frame a client sends gets exactly one reply, in the order sent, unless the connection is closed first with
//   a documented code; a reply is {id, ok:true, …} with the documented fields for its op, or {id, ok:false, error,
//   code, message, path?} whose error name and code agree with §6 (plus NoWatcher, docs/watches.md), and whose name
//   is the one the frame calls for (MarshallingError for what is not a JSON object, Unimplemented for an unknown op,
//   BadArguments for a bad frame, path, zxid or session id, NoNode/NoAuth/SessionExpired/ConnectionLoss/NoWatcher
//   where the state says so); `id` echoes the frame's when that is a string or an integer, else null;
// - pushed frames are well-formed events, session or resync frames; events reach a connection in zxid order, never
//   for a node it may not READ, never newer than a reply sent after them;
// - the server's closes use documented codes with a reason; RFC 6455 violations close with the code RFC 6455 asks;
// - the server stays up (a fresh watcher gets its event after every run), logs nothing at error level, holds no
//   watch or connection once its clients are gone, and does not retain a closed connection;
// - refused upgrades are answered with a §6 JSON error, never a hang.
// HTTP writes run while the frames arrive, so events fire between the replies. Seeds are fixed; FC_SEED=<n> and
// FUZZ_RUNS=<n> override them (the exploratory campaign runs this file so).
import t from 'tap';
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startTestServer, spawnServer, freePort, tempDir, ZKGATE_BIN } from '../helpers/server.js';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.js';
import { http } from './client.js';
import { FUTURE_ZXID, JSON_CT, LIMITS, MAX_FRAME, base, errorsLogged, logLines, sinks, sleep } from './ws-fuzz/server.js';
import { ERROR_CODES, isZxid } from './ws-fuzz/oracle.js';
import { SERVER_CLOSES, outcomeProblem } from './ws-fuzz/invariants.js';
import { Recorder } from './ws-fuzz/recorder.js';
import { endingArb, runArb, textAction, writeArb, type Action, type RunPlan } from './ws-fuzz/generators.js';
import { HANG_MS, checkProperty, closeAll, exchange, newSession, nothingHeld, serverStillServes } from './ws-fuzz/driver.js';
import { RawClient, closeBody, maskedFrame, rawStepArb, type RawFrame } from './ws-fuzz/raw-frames.js';
import { VALID_KEY, httpErrorProblem, rawHttp, upgradeArb, upgradeText } from './ws-fuzz/raw-http.js';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const RUNS = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : undefined;
const seedOf = (fixed: number) => SEED ?? fixed;
const runsOf = (fixed: number) => RUNS ?? fixed;

t.test('random frames on several connections, writes in between: one well-formed reply each, events in order, the server unharmed', async (t) => {
  await checkProperty(t, 'frames', runArb, seedOf(20241128), runsOf(80));
});

t.test('bursts of frames, many at once, on one connection', async (t) => {
  const burstRun: fc.Arbitrary<RunPlan> = fc.record({
    conns: fc.array(
      fc.record({
        actions: fc.array(fc.oneof(textAction, fc.record({ n: fc.integer({ min: 50, max: 200 }), pad: fc.constantFrom(0, 100, 1500) }).map((b): Action => ({ t: 'burst', ...b }))), { minLength: 1, maxLength: 6 }),
        ending: endingArb,
        stallMs: fc.constant(0),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    writes: fc.array(writeArb, { maxLength: 20 }),
  });
  await checkProperty(t, 'bursts', burstRun, seedOf(7), runsOf(10));
});

// ---- targeted cases, one per class of input (each is also in the random mix) ----

t.test('an unknown op of any JSON value, however deeply nested, is Unimplemented, and nothing is logged as an error', async (t) => {
  const from = logLines.length;
  const depths = [1, 100, 4000, 4200, 5000, 8000];
  const c = await exchange(depths.map((d) => `{"id":${d},"op":${'['.repeat(d)}${']'.repeat(d)}}`));
  for (const [i, d] of depths.entries()) {
    t.match(c.replies[i], { id: d, ok: false, error: 'Unimplemented', code: -6 }, `op nested ${d} deep (a ${2 * d + 16}-byte frame, under wsMaxFrameBytes)`);
  }
  t.same(errorsLogged(from), [], 'nothing logged at error level');
  await closeAll(c);
});

t.test('frames are answered in the order sent: a binary frame behind a deferred watch waits its turn', async (t) => {
  const c = await exchange([JSON.stringify({ id: 'deferred', op: 'watch', path: '/f', kind: 'exists', sinceZxid: FUTURE_ZXID }), Buffer.from([1, 2, 3]), JSON.stringify({ id: 'after', op: 'ping' })]);
  t.same(
    c.replies.map((r) => [r.id, r.error ?? 'ok']),
    [
      ['deferred', 'ConnectionLoss'],
      [null, 'MarshallingError'],
      ['after', 'ok'],
    ],
  );
  await closeAll(c);
});

t.test('session frames: a malformed id is BadArguments, an unknown or ended one SessionExpired, any spelling of a live one binds it', async (t) => {
  const live = await newSession(2000);
  const ended = await newSession(2000);
  await http(base, 'DELETE', '/v1/sessions/' + ended);
  const cases: [string, string][] = [
    ['', 'BadArguments'],
    ['   ', 'BadArguments'],
    ['0x', 'BadArguments'],
    ['x', 'BadArguments'],
    ['0x' + '1'.repeat(17), 'BadArguments'],
    ['0x1', 'SessionExpired'],
    [ended, 'SessionExpired'],
    [live.toUpperCase(), 'ok'],
    [' ' + live + ' ', 'ok'],
    ['0x' + live.slice(2).padStart(16, '0'), 'ok'],
  ];
  const c = await exchange(cases.map(([sessionId], i) => JSON.stringify({ id: i, op: 'session', sessionId })));
  for (const [i, [sid, want]] of cases.entries()) {
    const r = c.replies[i] ?? {};
    if (want === 'ok') t.same(r, { id: i, ok: true, sessionId: live, timeoutMs: 2000 }, `${JSON.stringify(sid)} binds ${live}`);
    else t.match(r, { id: i, ok: false, error: want, code: ERROR_CODES[want] }, `${JSON.stringify(sid)}: ${want}`);
  }
  await closeAll(c);
  await http(base, 'DELETE', '/v1/sessions/' + live);
});

t.test('binding twice, and to a second session: only the last bound session ends the connection', async (t) => {
  const a = await newSession(LIMITS.minSessionTimeout);
  const b = await newSession(2000);
  const c = await exchange([
    JSON.stringify({ id: 1, op: 'session', sessionId: a }),
    JSON.stringify({ id: 2, op: 'session', sessionId: a }),
    JSON.stringify({ id: 3, op: 'session', sessionId: b }),
    JSON.stringify({ id: 4, op: 'watch', path: '/f', kind: 'persistent' }),
  ]);
  t.same(c.replies.map((r) => [r.id, r.ok, r.sessionId]), [[1, true, a], [2, true, a], [3, true, b], [4, true, undefined]]);
  // a is no longer kept alive by this connection: it expires; the connection, bound to b, stays.
  let status = 0;
  for (let i = 0; i < 100 && status !== 410; i++) {
    await sleep(50);
    status = (await http(base, 'GET', '/v1/sessions/' + a)).status;
  }
  t.equal(status, 410, 'the first session expired once the connection moved to the second');
  await http(base, 'PUT', '/v1/znodes/f', 'after-a');
  c.ws.send(JSON.stringify({ id: 5, op: 'ping' }));
  await c.until(() => c.replies.length >= 5, HANG_MS);
  t.equal(c.closed, undefined, 'still open');
  t.notOk(c.got.some((g) => g.f.type === 'session'), 'no session frame for the session it left');
  t.ok(c.got.some((g) => g.f.type === 'event' && g.f.path === '/f'), 'and its watch still fires');
  t.equal((await http(base, 'DELETE', '/v1/sessions/' + b)).status, 204);
  t.ok(await c.until(() => c.closed !== undefined, HANG_MS));
  t.same(c.closed, { code: 1000, reason: 'session closed' });
  t.same(c.got.filter((g) => g.f.type === 'session').map((g) => g.f), [{ type: 'session', state: 'closed' }]);
});

// ---- the WebSocket protocol itself (RFC 6455), through a raw socket ----

t.test('RFC 6455 at the frame level: pings, fragments and client closes are honoured; violations close with the code RFC 6455 asks', async (t) => {
  const from = logLines.length;
  const started = Date.now();
  const seed = seedOf(6455);
  const details = await fc.check(
    fc.asyncProperty(fc.array(rawStepArb, { minLength: 1, maxLength: 8 }), async (steps) => {
      const c = await RawClient.connect();
      const problems: string[] = [];
      let replies = 0;
      let pongs = 0;
      let ending: { code: number | undefined; reason?: string; what: string } | undefined;
      for (const st of steps) {
        if (ending) break;
        switch (st.s) {
          case 'ping':
            c.sock.write(maskedFrame(1, JSON.stringify({ id: replies, op: 'ping' })));
            replies++;
            break;
          case 'wsPing':
            c.sock.write(maskedFrame(9, st.data));
            pongs++;
            if (!(await c.until(() => c.frames.filter((f) => f.opcode === 10).length >= pongs, HANG_MS))) problems.push('no pong to a ping');
            else if ((c.frames.filter((f) => f.opcode === 10)[pongs - 1] as RawFrame).payload.toString() !== st.data) problems.push('a pong without the ping data');
            break;
          case 'pong':
            c.sock.write(maskedFrame(10, 'unsolicited'));
            break;
          case 'fragmented': {
            const text = JSON.stringify({ id: replies, op: 'ping' });
            const size = Math.ceil(text.length / st.parts);
            for (let i = 0; i < st.parts; i++) {
              c.sock.write(maskedFrame(i === 0 ? 1 : 0, text.slice(i * size, (i + 1) * size), { fin: i === st.parts - 1 }));
              // A control frame may come between fragments.
              if (i === 0) c.sock.write(maskedFrame(9, ''));
            }
            pongs++;
            replies++;
            break;
          }
          case 'violation':
            for (const f of st.frames) c.sock.write(f);
            ending = { code: st.code, what: st.name };
            break;
          case 'close':
            c.sock.write(maskedFrame(8, closeBody(st.code, st.reason)));
            ending = { code: st.code, reason: st.reason, what: `a client close ${st.code}` };
            break;
          case 'emptyClose':
            c.sock.write(maskedFrame(8, ''));
            ending = { code: undefined, reason: '', what: 'a client close without a code' };
            break;
        }
      }
      if (!ending) {
        if (!(await c.until(() => c.texts.length >= replies, HANG_MS))) problems.push(`${c.texts.length} of ${replies} replies`);
        c.sock.write(maskedFrame(8, closeBody(1000, 'bye')));
        ending = { code: 1000, reason: 'bye', what: 'a client close 1000' };
      }
      if (!(await c.until(() => c.close !== undefined && c.ended, HANG_MS))) problems.push(`no close frame and socket end after ${ending.what}`);
      else {
        const got = c.close;
        if (got?.code !== ending.code) problems.push(`${ending.what}: closed ${String(got?.code)} (${got?.reason}), expected ${String(ending.code)}`);
        if (ending.reason !== undefined && got?.reason !== ending.reason) problems.push(`${ending.what}: the close reason ${JSON.stringify(got?.reason)} does not echo ${JSON.stringify(ending.reason)}`);
      }
      const texts = c.texts;
      if (texts.length > replies) problems.push(`${texts.length} replies to ${replies} frames`);
      texts.forEach((r, i) => {
        if (r.id !== i || r.ok !== true || !isZxid(r.zxid)) problems.push(`reply ${i}: ${JSON.stringify(r)}`);
      });
      c.sock.destroy();
      if (problems.length) throw new Error(problems.join('\n'));
    }),
    { seed, numRuns: runsOf(60), endOnFailure: true },
  );
  t.comment(`raw frames: seed ${seed}, ${details.numRuns} runs in ${Date.now() - started} ms`);
  if (details.failed) t.fail(`seed ${seed}: ${String((details.errorInstance as Error | undefined)?.message)}\ncounterexample: ${JSON.stringify(details.counterexample)?.slice(0, 2000)}`);
  else t.pass(`${details.numRuns} runs of raw frames`);
  t.same(errorsLogged(from), [], 'nothing logged at error level');
  t.equal(await serverStillServes(), undefined, 'the server still serves a fresh watcher');
  t.equal(await nothingHeld(), undefined);
});

// ---- upgrade requests ----

t.test('upgrade requests with bad headers, methods or paths get a §6 JSON error (or the plain answer), never a hang', async (t) => {
  const started = Date.now();
  const seed = seedOf(426);
  const details = await fc.check(
    fc.asyncProperty(upgradeArb, async (u) => {
      const a = await rawHttp(upgradeText(u));
      const what = upgradeText(u).split('\r\n').filter(Boolean).join(' | ');
      if (a === 'hang') throw new Error(`no answer within 3 s: ${what}`);
      const isUpgrade = u.connection?.toLowerCase().includes('upgrade') && u.upgrade !== undefined;
      const route = u.path.split('?')[0];
      if (a.status === 101) {
        const ok =
          u.method === 'GET' && route === '/v1/watch' && isUpgrade && u.upgrade?.toLowerCase() === 'websocket' && u.key === VALID_KEY &&
          (u.version === '13' || u.version === '8') && u.protocol !== 'a,,b' && u.protocol !== ' ' && u.origin === undefined && (u.authorization === undefined || u.authorization.endsWith(Buffer.from('u:p').toString('base64')));
        if (!ok) throw new Error(`101 to a request that should be refused: ${what}`);
        return;
      }
      if (a.status >= 500 && a.status !== 503) throw new Error(`${a.status}: ${what}`);
      if (a.status >= 400) {
        const p = httpErrorProblem(a);
        if (p) throw new Error(`${p}: ${what}`);
      }
      // A request to a REST route is that request, whatever its Upgrade header (RFC 9110 §7.8: a server may ignore it).
      if (route === '/v1/znodes/f' && u.upgrade?.toLowerCase() !== 'websocket' && u.origin === undefined && u.authorization === undefined) {
        const plain = await rawHttp(`${u.method} ${u.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${u.method !== 'GET' ? 'Content-Length: 0\r\n' : ''}\r\n`);
        if (plain !== 'hang' && plain.status !== a.status) throw new Error(`answered ${a.status} ${a.body.slice(0, 100)}, where the same request without the Upgrade header gets ${plain.status}: ${what}`);
      }
    }),
    { seed, numRuns: runsOf(150), endOnFailure: true },
  );
  t.comment(`upgrades: seed ${seed}, ${details.numRuns} runs in ${Date.now() - started} ms`);
  if (details.failed) t.fail(`seed ${seed}: ${String((details.errorInstance as Error | undefined)?.message)}`);
  else t.pass(`${details.numRuns} upgrade requests answered within the rules`);
  t.equal(await nothingHeld(), undefined);
});

// Node 20 hands every request with an Upgrade header to the upgrade listener and cannot give it back to be served as
// HTTP/1.1, so zkgate refuses one that is not a WebSocket upgrade, saying how to send it instead (README).
t.test('a request with Upgrade: h2c (curl --http2 on http://) is refused with a 400 naming the fix, and a write in it is not applied', async (t) => {
  const h2c = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n';
  const a = await rawHttp(`GET /v1/znodes/ HTTP/1.1\r\nHost: 127.0.0.1\r\n${h2c}\r\n`);
  t.not(a, 'hang');
  if (a === 'hang') return;
  t.equal(httpErrorProblem(a), undefined, 'a §6 JSON error');
  t.equal(a.status, 400);
  t.match(JSON.parse(a.body), { error: 'BadArguments', message: /without an Upgrade header.*--http1\.1/ });
  const put = await rawHttp(`PUT /v1/znodes/h2c-put HTTP/1.1\r\nHost: 127.0.0.1\r\n${h2c}Content-Length: 2\r\n\r\nhi`);
  t.not(put, 'hang');
  if (put !== 'hang') t.equal(put.status, 400, 'the PUT is refused');
  const after = await rawHttp(`GET /v1/znodes/h2c-put HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  t.not(after, 'hang');
  if (after !== 'hang') t.equal(after.status, 404, 'and nothing was written');
});

t.test('a refused handshake (bad Sec-WebSocket-Version, no key, POST, Upgrade not websocket) is a §6 JSON error', async (t) => {
  const head = (extra: string, method = 'GET') => `${method} /v1/watch HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n${extra}${method === 'GET' ? '' : 'Content-Length: 0\r\n'}\r\n`;
  const cases: [string, string][] = [
    ['Sec-WebSocket-Version 12', head(`Upgrade: websocket\r\nSec-WebSocket-Key: ${VALID_KEY}\r\nSec-WebSocket-Version: 12\r\n`)],
    ['no Sec-WebSocket-Key', head('Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n')],
    ['POST', head(`Upgrade: websocket\r\nSec-WebSocket-Key: ${VALID_KEY}\r\nSec-WebSocket-Version: 13\r\n`, 'POST')],
    ['Upgrade: h2c', head('Upgrade: h2c\r\n')],
    ['a malformed Sec-WebSocket-Protocol', head(`Upgrade: websocket\r\nSec-WebSocket-Key: ${VALID_KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: a,,b\r\n`)],
  ];
  for (const [name, req] of cases) {
    const a = await rawHttp(req);
    if (a === 'hang') t.fail(`${name}: no answer`);
    else t.equal(httpErrorProblem(a), undefined, `${name}: ${a.status} ${a.headers['content-type']} ${JSON.stringify(a.body.slice(0, 60))}`);
  }
});

// ---- what the server keeps ----

t.test('a closed connection is not retained while no write commits (deferred frames leave nothing behind)', async (t) => {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const collected = async () => {
    await sleep(LIMITS.wsCloseGraceMs + 2 * LIMITS.minZxidWaitMs + 100);
    for (let i = 0; i < 4; i++) {
      gc();
      await sleep(20);
    }
    return sinks.every((r) => r.deref() === undefined);
  };
  await sleep(200);
  t.ok(await collected(), 'no connection of the earlier tests is retained (they saw writes after closing)');
  sinks.length = 0;
  const c = await exchange(Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: i, op: 'watch', path: '/f', kind: 'exists', sinceZxid: FUTURE_ZXID })));
  t.same(c.replies.map((r) => r.error), Array(5).fill('ConnectionLoss'), 'each deferred frame ends in ConnectionLoss');
  await closeAll(c);
  t.equal(sinks.length, 1, 'one connection was watched');
  const idle = await collected();
  // The same after a write, to tell a retention that lasts until the next commit from one that lasts for ever.
  await http(base, 'PUT', '/v1/znodes/f', 'commit');
  const afterWrite = await collected();
  t.ok(idle, `the closed connection is garbage with no write since it closed${idle ? '' : afterWrite ? ' (it was retained until the next commit)' : ' (retained even after a commit)'}`);
});

t.test('a bound connection keeps its session alive while one of its frames waits for a zxid: its pongs still count', async (t) => {
  // A server whose minZxidWaitMs is several session timeouts (as the defaults are: 5 s against a 4 s minimum timeout).
  const other = await startTestServer({ tickTime: 50, minSessionTimeout: 100, maxSessionTimeout: 10000, minZxidWaitMs: 1500 });
  t.teardown(() => other.destroy());
  const sid = String((await http(other.url, 'POST', '/v1/sessions', JSON.stringify({ timeoutMs: 300 }), JSON_CT)).body.sessionId);
  const c = await Recorder.open({}, other.url.replace(/^http/, 'ws') + '/v1/watch');
  let pings = 0;
  c.ws.on('ping', () => pings++);
  c.ws.send(JSON.stringify({ id: 1, op: 'session', sessionId: sid }));
  await c.until(() => c.replies.length >= 1, HANG_MS);
  t.match(c.replies[0], { id: 1, ok: true, sessionId: sid });
  c.ws.send(JSON.stringify({ id: 2, op: 'watch', path: '/', kind: 'exists', sinceZxid: FUTURE_ZXID }));
  await sleep(1000);
  t.ok(pings >= 5, `the server went on pinging (${pings} pings) and the client answered each`);
  t.equal((await http(other.url, 'GET', '/v1/sessions/' + sid)).status, 200, 'the session is alive 1 s (3 timeouts) into the wait');
  await c.until(() => c.replies.length >= 2 || c.closed !== undefined, HANG_MS);
  t.match(c.replies[1], { id: 2, ok: false, error: 'ConnectionLoss', code: -4 }, 'the waiting frame ends in ConnectionLoss');
  t.equal(c.closed, undefined, 'and the connection stays open');
  t.same(c.got.filter((g) => g.f.type === 'session').map((g) => g.f), [], 'with no session event');
  await closeAll(c);
});

t.test('resume frames repeating one watch cannot make the server build a reply larger than its memory: it stays up', async (t) => {
  // A server process of its own with a 160 MB heap and the default WebSocket limits (10,000 watches a connection,
  // 1 MiB of held resume frames, 16 KiB frames): 3,000 copies of one data watch on a 100 KB node are ~94 KB of frames,
  // and one result each with the node's data is 300 MB. (With the default heap it takes 10,000 copies on a 1 MB node.)
  const port = await freePort();
  const dir = tempDir();
  const child = await spawnServer(['--http-port', String(port), '--data-dir', dir, '--log-level', 'warn'], {}, [process.execPath, ...SERVER_NODE_FLAGS, '--max-old-space-size=160', ZKGATE_BIN]);
  t.teardown(async () => {
    child.proc.kill('SIGKILL');
    await child.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  t.equal((await http(child.url, 'POST', '/v1/znodes/x', Buffer.alloc(100 * 1024, 97))).status, 201);
  const c = await Recorder.open({}, child.url.replace(/^http/, 'ws') + '/v1/watch');
  const one = JSON.stringify({ path: '/x', kind: 'data' });
  const perFrame = Math.floor((MAX_FRAME - 100) / (one.length + 1));
  let sent = 0;
  let frames = 0;
  while (sent < 3000) {
    const n = Math.min(perFrame, 3000 - sent);
    sent += n;
    c.ws.send(`{"id":${frames++},"op":"resume","sinceZxid":"0","more":${sent < 3000},"watches":[${Array(n).fill(one).join(',')}]}`);
  }
  await c.until(() => c.replies.length >= frames || c.closed !== undefined, 20000);
  const gone = await Promise.race([child.exited.then((e) => `exited (${e.signal ?? e.code})`), sleep(200).then(() => undefined)]);
  t.equal(gone, undefined, `the server process is still running${gone ? `: ${child.stderr().split('\n').find((l) => /heap|memory/i.test(l)) ?? ''}` : ''}`);
  if (gone) return;
  t.equal((await fetch(child.url + '/v1/admin/ruok')).status, 200, 'and answers');
  const last = c.replies[frames - 1];
  if (last) {
    const p = last.ok === true ? (Array.isArray(last.results) && last.results.length === 3000 ? undefined : 'results') : outcomeProblem(last, [{ error: String(last.error) }], true);
    t.equal(p, undefined, `the completing frame got a well-formed reply (${JSON.stringify(last).slice(0, 120)})`);
  } else t.ok(c.closed && SERVER_CLOSES[c.closed.code]?.test(c.closed.reason), `or a documented close (${JSON.stringify(c.closed)})`);
  c.ws.terminate();
});

t.test('nothing was logged at error level by the server', async (t) => {
  t.same(errorsLogged(), []);
});
