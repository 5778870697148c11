// Sessions (API.md §4): negotiation, keepalive, inspection, close and expiry deleting ephemerals, 410 for
// requests in dead sessions, and sessions surviving a restart on the same dataDir.
import t from 'tap';
import { rmSync } from 'node:fs';
import { startTestServer, tempDir } from '../helpers/server.js';
import { Client, eventually, serverFor, sleep } from './http.js';

const timing = { tickTime: 100, minSessionTimeout: 400, maxSessionTimeout: 5000 };
const { zk } = await serverFor(t, timing);

t.test('the requested timeout is negotiated into [minSessionTimeout, maxSessionTimeout], zero and negatives too, as ZooKeeper does', async (t) => {
  const cases: [number | undefined, number][] = [
    [10, 400],
    [0, 400],
    [-5000, 400],
    [1000, 1000],
    [100000, 5000],
    [undefined, 5000],
  ];
  for (const [ask, get] of cases) {
    const r = await zk.call('POST', '/v1/sessions', { body: ask === undefined ? {} : { timeoutMs: ask } });
    t.equal(r.status, 201);
    t.match(r.body.sessionId, /^0x[0-9a-f]+$/);
    t.equal(r.body.timeoutMs, get, `asked ${ask}`);
  }
  const bare = await zk.call('POST', '/v1/sessions');
  t.equal(bare.status, 201, 'no body at all is fine');
  const bad = await zk.call('POST', '/v1/sessions', { body: { timeoutMs: 'soon' } });
  t.equal(bad.status, 400);
});

t.test('keepalive answers the session and timeout; an unknown session is 410', async (t) => {
  const sid = await zk.session(1000);
  const r = await zk.call('POST', `/v1/sessions/${sid}/keepalive`);
  t.equal(r.status, 200);
  t.same(r.body, { sessionId: sid, timeoutMs: 1000 });
  const unknown = await zk.call('POST', '/v1/sessions/0x123456789/keepalive');
  t.equal(unknown.status, 410);
  t.equal(unknown.body.error, 'SessionExpired');
});

t.test('every spelling of a session id names the session; a malformed one is 400, not 410', async (t) => {
  const sid = await zk.session(1000);
  const padded = `0X${'0'.repeat(16 - (sid.length - 2))}${sid.slice(2).toUpperCase()}`;
  t.not(padded, sid, 'the spelling differs from the canonical id');
  const keep = await zk.call('POST', `/v1/sessions/${padded}/keepalive`);
  t.equal(keep.status, 200, 'keepalive by a zero-padded, upper-case id');
  t.same(keep.body, { sessionId: sid, timeoutMs: 1000 }, 'answers with the canonical id');
  const eph = await zk.call('POST', '/v1/znodes/padded-eph?ephemeral', { body: 'x', headers: { 'zk-session': ` ${padded} ` } });
  t.equal(eph.status, 201, 'ZK-Session in another spelling creates an ephemeral');
  const info = await zk.call('GET', `/v1/sessions/${sid}`);
  t.same(info.body.ephemerals, ['/padded-eph'], 'owned by the one session');
  for (const bad of ['deadbeef', '0x', '0x12345678901234567', '0xzz', '0x1 2']) {
    const r = await zk.call('GET', '/v1/znodes/padded-eph', { headers: { 'zk-session': bad } });
    t.equal(r.status, 400, `ZK-Session ${JSON.stringify(bad)}`);
    t.equal(r.body.error, 'BadArguments');
    t.match(r.body.message, /ZK-Session must be a session id/);
  }
  const binary = await zk.call('GET', '/v1/znodes/padded-eph', { headers: { 'zk-session': '0x1\u00ff"\u00e9' } });
  t.equal(binary.status, 400);
  t.match(binary.body.message, 'got "0x1\\xff\\"\\xe9"', 'bytes outside printable ASCII are escaped in the message');
  const url = await zk.call('POST', '/v1/sessions/nope/keepalive');
  t.equal(url.status, 400, 'a malformed id in the URL is 400');
  t.match(url.body.message, /session id must be a session id/);
  await zk.call('DELETE', `/v1/sessions/${padded.toLowerCase()}`);
  t.equal((await zk.call('GET', '/v1/znodes/padded-eph')).status, 404, 'closed by another spelling');
});

t.test('GET a session lists its ephemerals as absolute paths', async (t) => {
  const sid = await zk.session(5000);
  const h = { 'zk-session': sid };
  await zk.create('/se-list');
  await zk.create('/se-list/b', '', 'ephemeral', h);
  await zk.create('/se-list/a', '', 'ephemeral', h);
  await zk.create('/se-top', '', 'ephemeral', h);
  const r = await zk.call('GET', `/v1/sessions/${sid}`);
  t.equal(r.status, 200);
  t.equal(r.body.sessionId, sid);
  t.equal(r.body.timeoutMs, 5000);
  t.same([...r.body.ephemerals].sort(), ['/se-list/a', '/se-list/b', '/se-top']);
});

t.test('closing a session deletes its ephemerals at once and ends it', async (t) => {
  const sid = await zk.session(5000);
  const h = { 'zk-session': sid };
  await zk.create('/se-close', '', 'ephemeral', h);
  await zk.create('/se-close-seq-', '', 'ephemeral&sequential', h);
  await zk.create('/se-close-keep');
  const r = await zk.call('DELETE', `/v1/sessions/${sid}`);
  t.equal(r.status, 204);
  t.equal((await zk.stat('/se-close')).status, 404, 'gone by the time the close is answered');
  t.notOk((await zk.children('/')).body.children.some((n) => n.startsWith('se-close-seq-')));
  t.equal((await zk.stat('/se-close-keep')).status, 200, 'persistent nodes stay');
  t.equal((await zk.call('GET', `/v1/sessions/${sid}`)).status, 410);
  t.equal((await zk.call('POST', `/v1/sessions/${sid}/keepalive`)).status, 410);
  t.equal((await zk.call('DELETE', `/v1/sessions/${sid}`)).status, 410, 'closing twice is 410');
});

t.test('an ephemeral deleted by hand leaves the session listing, and the session still closes cleanly', async (t) => {
  const sid = await zk.session(5000);
  const h = { 'zk-session': sid };
  await zk.create('/se-manual');
  await zk.create('/se-manual/e1', '', 'ephemeral', h);
  await zk.create('/se-manual/e2', '', 'ephemeral', h);
  await zk.create('/se-manual-top', '', 'ephemeral', h);
  t.equal((await zk.delete('/se-manual/e1')).status, 204);
  t.equal((await zk.delete('/se-manual', 'recursive')).status, 204, 'a recursive delete takes an ephemeral too');
  t.same((await zk.call('GET', `/v1/sessions/${sid}`)).body.ephemerals, ['/se-manual-top']);
  t.equal((await zk.call('DELETE', `/v1/sessions/${sid}`)).status, 204);
  t.equal((await zk.stat('/se-manual-top')).status, 404);
});

t.test('a session not kept alive expires and its ephemerals are deleted', async (t) => {
  const sid = await zk.session(400);
  await zk.create('/se-expire', '', 'ephemeral', { 'zk-session': sid });
  const gone = await eventually(async () => (await zk.stat('/se-expire')).status === 404, 3000);
  t.ok(gone, 'the ephemeral went with the session');
  t.equal((await zk.call('POST', `/v1/sessions/${sid}/keepalive`)).status, 410);
});

t.test('keepalives keep a session alive past its timeout', async (t) => {
  const sid = await zk.session(1000);
  await zk.create('/se-alive', '', 'ephemeral', { 'zk-session': sid });
  const t0 = Date.now();
  while (Date.now() - t0 < 2000) {
    await sleep(200);
    t.equal((await zk.call('POST', `/v1/sessions/${sid}/keepalive`)).status, 200);
  }
  t.equal((await zk.stat('/se-alive')).status, 200, 'still there after two timeouts');
});

t.test('requests carrying the session keep it alive too', async (t) => {
  const sid = await zk.session(1000);
  const me = zk.with({ 'zk-session': sid });
  await me.create('/se-used', '', 'ephemeral');
  const t0 = Date.now();
  while (Date.now() - t0 < 2000) {
    await sleep(200);
    t.equal((await me.stat('/se-used')).status, 200);
  }
});

t.test('any request in an unknown or closed session is 410 and changes nothing', async (t) => {
  await zk.create('/se-guard', 'orig');
  const closed = await zk.session(5000);
  await zk.call('DELETE', `/v1/sessions/${closed}`);
  const other = await zk.session(5000);
  for (const sid of ['0xdeadbeef', closed]) {
    const dead = zk.with({ 'zk-session': sid });
    const attempts = [
      await dead.create('/se-guard-new'),
      await dead.create('/se-guard-eph', '', 'ephemeral'),
      await dead.set('/se-guard', 'changed'),
      await dead.delete('/se-guard'),
      await dead.multi([{ op: 'create', path: '/se-guard-multi' }]),
      await dead.setAcl('/se-guard', [{ scheme: 'world', id: 'anyone', perms: 'r' }]),
      await dead.get('/se-guard'),
      await dead.call('POST', '/v1/sync'),
      // The session routes too, whatever session their URL names.
      await dead.call('POST', '/v1/sessions', { body: {} }),
      await dead.call('GET', `/v1/sessions/${other}`),
      await dead.call('POST', `/v1/sessions/${other}/keepalive`),
      await dead.call('DELETE', `/v1/sessions/${other}`),
    ];
    for (const r of attempts) {
      t.equal(r.status, 410, `${sid}`);
      t.equal(r.body.error, 'SessionExpired');
    }
  }
  const g = await zk.get('/se-guard');
  t.equal(g.body.data, 'orig');
  t.equal(g.body.stat.version, 0);
  t.equal(g.body.stat.aversion, 0);
  for (const p of ['/se-guard-new', '/se-guard-eph', '/se-guard-multi']) t.equal((await zk.stat(p)).status, 404, p);
  t.equal((await zk.call('GET', `/v1/sessions/${other}`)).status, 200, 'the other session was not closed');
});

t.test('a session survives a restart on the same dataDir, then expires on schedule', async (t) => {
  const dataDir = tempDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startTestServer({ ...timing, dataDir });
  const a = new Client(first.url);
  // Long enough that a slow restart on a loaded machine does not use it up before the first keepalive.
  const sid = await a.session(4000);
  await a.create('/restart-eph', 'e', 'ephemeral', { 'zk-session': sid });
  await first.close();

  const second = await startTestServer({ ...timing, dataDir });
  t.teardown(() => second.close());
  const b = new Client(second.url);
  const ka = await b.call('POST', `/v1/sessions/${sid}/keepalive`);
  t.equal(ka.status, 200, 'the session answers keepalive after the restart');
  t.equal(ka.body.timeoutMs, 4000);
  t.equal((await b.get('/restart-eph')).body.data, 'e', 'its ephemeral is still there');
  t.same((await b.call('GET', `/v1/sessions/${sid}`)).body.ephemerals, ['/restart-eph']);
  const t0 = Date.now();
  const gone = await eventually(async () => (await b.stat('/restart-eph')).status === 404, 12000);
  const took = Date.now() - t0;
  t.ok(gone, 'it expires once no longer kept alive');
  t.ok(took >= 3500, `not before its timeout (${took} ms)`);
  t.equal((await b.call('POST', `/v1/sessions/${sid}/keepalive`)).status, 410);
});

t.test('maxSessions holds under concurrent creates: those in flight count', async (t) => {
  const { startTestServer } = await import('../helpers/server.js');
  const s = await startTestServer({ maxSessions: 50 });
  t.teardown(() => s.destroy());
  const answers = await Promise.all(
    Array.from({ length: 400 }, () => fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then(async (r) => ({ status: r.status, body: (await r.json()) as { applied?: boolean } }))),
  );
  const created = answers.filter((a) => a.status === 201).length;
  t.equal(created, 50, `50 created of 400 asked at once (${created})`);
  t.ok(answers.filter((a) => a.status !== 201).every((a) => a.status === 503 && a.body.applied === false), 'the rest: 503 applied:false');
  const mntr = (await (await fetch(`${s.url}/v1/admin/mntr`)).json()) as { zk_global_sessions: number };
  t.equal(mntr.zk_global_sessions, 50, 'and the node holds 50');
});
