// Session binding (API.md §4–5): a bound WebSocket that answers the server's pings keeps its session alive; a frozen
// one does not, so the session expires, its ephemerals go (firing watches), and the connection gets the session event.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { WatchClient, http } from './client.js';

const s = await startTestServer({ tickTime: 50, minSessionTimeout: 300, maxSessionTimeout: 5000 });
t.teardown(() => s.destroy());
const base = s.url;
const json = { 'content-type': 'application/json' };
const newSession = async (timeoutMs: number) =>
  String((await http(base, 'POST', '/v1/sessions', JSON.stringify({ timeoutMs }), json)).body.sessionId);
const sessionStatus = async (sid: string) => (await http(base, 'GET', '/v1/sessions/' + sid)).status;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a bound connection answering pings keeps a 300 ms session alive for 4× its timeout', async (t) => {
  const sid = await newSession(300);
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  t.match(await c.request({ op: 'session', sessionId: sid }), { ok: true, sessionId: sid, timeoutMs: 300 });
  await sleep(1200);
  t.equal(await sessionStatus(sid), 200, 'still alive without any keepalive request');
});

t.test('a frozen bound client stops keeping its session alive: it expires, ephemerals go, the client learns why', async (t) => {
  const sid = await newSession(300);
  await http(base, 'POST', '/v1/znodes/frozen-eph?ephemeral', 'e', { 'zk-session': sid });
  const frozen = await WatchClient.open(base);
  t.teardown(() => frozen.close());
  await frozen.request({ op: 'session', sessionId: sid });
  const other = await WatchClient.open(base);
  t.teardown(() => other.close());
  await other.watch('/frozen-eph', 'data');
  // Stop reading: no pongs go back, as with a client stuck in a long pause.
  frozen.ws.pause();
  t.ok(await other.until(() => other.eventList().includes('NodeDeleted /frozen-eph'), 5000), 'the ephemeral was deleted by the expiry');
  t.equal(await sessionStatus(sid), 410);
  frozen.ws.resume();
  t.ok(await frozen.until(() => frozen.closed !== undefined, 5000));
  t.same(frozen.pushed, [{ type: 'session', state: 'expired' }]);
  t.equal(frozen.closed?.code, 1000);
});

t.test('closing the session sends {type:"session", state:"closed"} to every connection bound to it', async (t) => {
  const sid = await newSession(2000);
  const a = await WatchClient.open(base);
  const b = await WatchClient.open(base);
  t.teardown(() => a.close());
  t.teardown(() => b.close());
  await a.request({ op: 'session', sessionId: sid.toUpperCase().replace('0X', '0x') });
  await b.request({ op: 'session', sessionId: sid });
  t.equal((await http(base, 'DELETE', '/v1/sessions/' + sid)).status, 204);
  for (const c of [a, b]) {
    t.ok(await c.until(() => c.closed !== undefined));
    t.same(c.pushed, [{ type: 'session', state: 'closed' }]);
  }
});

t.test('binding an unknown session is SessionExpired', async (t) => {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  t.match(await c.request({ op: 'session', sessionId: '0xdeadbeef' }), { ok: false, error: 'SessionExpired', code: -112 });
  t.match(await c.request({ op: 'ping' }), { ok: true });
});

t.test('a session frame takes any spelling of the id; a malformed one is BadArguments', async (t) => {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  const sid = await newSession(5000);
  const padded = `0x${'0'.repeat(16 - (sid.length - 2))}${sid.slice(2).toUpperCase()}`;
  t.match(await c.request({ op: 'session', sessionId: padded }), { ok: true, sessionId: sid });
  t.match(await c.request({ op: 'session', sessionId: 'deadbeef' }), { ok: false, error: 'BadArguments', message: /sessionId must be a session id/ });
});

t.test('/v1/admin/cons counts a WebSocket\'s frames as its requests, with the last op and the bound session', async (t) => {
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  const sid = (await http(base, 'POST', '/v1/sessions', '{}', { 'content-type': 'application/json' })).body.sessionId as string;
  t.match(await c.request({ op: 'session', sessionId: sid }), { ok: true });
  t.match(await c.request({ op: 'ping' }), { ok: true });
  const cons = (await http(base, 'GET', '/v1/admin/cons')).body as { connections: { kind: string; requests: number; lastOp: string; lastSessionId: string }[] };
  const ws = cons.connections.filter((x) => x.kind === 'ws');
  t.equal(ws.length, 1);
  t.match(ws[0], { requests: 2, lastOp: 'ping', lastSessionId: sid });
});
