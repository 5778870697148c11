// /v1/admin/*: ZooKeeper's four-letter words with their fields, and who may read which (super digest rule).
import t from 'tap';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { startTestServer } from '../helpers/server.js';

const superDigest = 'admin:' + createHash('sha1').update('admin:pw').digest('base64');
const basic = (user: string, pw: string) => 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');

t.test('without a super digest every endpoint answers, with ZooKeeper\'s fields', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const get = async (p: string) => {
    const r = await fetch(`${s.url}/v1/admin/${p}`);
    t.equal(r.status, 200, p);
    return r;
  };
  t.equal(await (await get('ruok')).text(), 'imok');
  t.same(await (await get('ready')).json(), { ready: true, mode: 'standalone' });
  const srvr = (await (await get('srvr')).json()) as Record<string, unknown>;
  t.match(srvr, { version: String, mode: 'standalone', zxid: /^\d+$/, nodeCount: 4, connections: Number, outstanding: 0, latency: { min: Number, avg: Number, max: Number } });

  const sess = (await (await fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { sessionId: string };
  await fetch(`${s.url}/v1/znodes/e1?ephemeral`, { method: 'POST', headers: { 'zk-session': sess.sessionId } });

  const stat = (await (await get('stat')).json()) as { clients: { remoteAddress: string; requests: number }[]; mode: string };
  t.equal(stat.mode, 'standalone');
  t.ok(stat.clients.length >= 1, 'stat lists the connected clients');
  t.match(stat.clients[0], { remoteAddress: '127.0.0.1', requests: Number });

  const conf = (await (await get('conf')).json()) as Record<string, unknown>;
  t.match(conf, { tickTime: 2000, dataDir: s.dataDir, httpHost: '127.0.0.1', minSessionTimeout: 4000, maxSessionTimeout: 40000, juteMaxBuffer: 1048575, serverId: null, servers: [] });

  const cons = (await (await get('cons')).json()) as { connections: Record<string, unknown>[]; truncated: boolean };
  t.equal(cons.truncated, false);
  const withSession = cons.connections.find((c) => c.lastSessionId === sess.sessionId);
  t.ok(withSession, 'cons shows the keep-alive connection that used the session');
  t.match(withSession, { kind: 'http', remotePort: Number, established: String, minLatencyMs: Number, avgLatencyMs: Number, maxLatencyMs: Number });

  const dump = (await (await get('dump')).json()) as { sessions: unknown[]; sessionIdToEphemeralPaths: Record<string, string[]> };
  t.same(dump.sessionIdToEphemeralPaths, { [sess.sessionId]: ['/e1'] });
  t.match(dump.sessions, [{ sessionId: sess.sessionId, timeoutMs: Number, ephemerals: ['/e1'] }]);

  const envi = (await (await get('envi')).json()) as Record<string, unknown>;
  t.match(envi, { zkgateVersion: String, hostName: String, nodeVersion: process.version, osName: process.platform, pid: process.pid, userDir: process.cwd() });

  const cluster = (await (await get('cluster')).json()) as Record<string, unknown>;
  t.same(cluster, { myid: null, leader: null, term: 0, commitZxid: srvr.zxid === undefined ? '' : cluster.commitZxid, members: [], readRefusal: null, voteLimit: null, leaderRefusal: null, history: null });
  t.match(cluster.commitZxid, /^\d+$/);

  const mntr = (await (await get('mntr')).json()) as Record<string, unknown>;
  t.match(mntr, { zk_server_state: 'standalone', zk_znode_count: 5, zk_ephemerals_count: 1, zk_watch_count: Number, zk_approximate_data_size: Number, zk_num_alive_connections: Number });
  const text = await (await fetch(`${s.url}/v1/admin/mntr`, { headers: { accept: 'text/plain' } })).text();
  t.match(text, /^zk_version\t/m);
  t.match(text, /^zk_server_state\tstandalone$/m);
});

t.test('mntr counts the process\'s open file descriptors and gives its limit, as ZooKeeper does on Unix', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const mntr = async () => (await (await fetch(`${s.url}/v1/admin/mntr`)).json()) as Record<string, number>;
  const before = await mntr();
  const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  t.equal(before.zk_max_file_descriptor_count, Number(limit?.[1]), 'the soft limit (the server runs in this process)');
  const fds = Array.from({ length: 40 }, () => openSync(process.execPath, 'r'));
  t.teardown(() => fds.forEach((fd) => closeSync(fd)));
  const after = await mntr();
  t.ok(after.zk_open_file_descriptor_count - before.zk_open_file_descriptor_count >= 40, `40 more files open: ${before.zk_open_file_descriptor_count} → ${after.zk_open_file_descriptor_count}`);
  t.ok(after.zk_open_file_descriptor_count <= readdirSync('/proc/self/fd').length, 'no more than the process holds');
});

t.test('with a super digest: ruok, srvr, mntr, cluster stay open; the rest need the super user', async (t) => {
  const s = await startTestServer({ superDigest });
  t.teardown(() => s.destroy());
  for (const p of ['ruok', 'ready', 'srvr', 'mntr', 'cluster']) t.equal((await fetch(`${s.url}/v1/admin/${p}`)).status, 200, `${p} is open`);
  t.equal((await fetch(`${s.url}/metrics`)).status, 200, '/metrics is open');
  for (const p of ['stat', 'conf', 'cons', 'dump', 'envi', 'snapshot', 'wchs', 'wchc', 'wchp']) {
    const anon = await fetch(`${s.url}/v1/admin/${p}`);
    t.equal(anon.status, 401, `${p} without credentials`);
    t.equal(((await anon.json()) as { error: string }).error, 'AuthFailed');
    const other = await fetch(`${s.url}/v1/admin/${p}`, { headers: { authorization: basic('bob', 'pw') } });
    t.equal(other.status, 403, `${p} as another user`);
    t.equal(((await other.json()) as { error: string }).error, 'NoAuth');
    const ok = await fetch(`${s.url}/v1/admin/${p}`, { headers: { authorization: basic('admin', 'pw') } });
    t.equal(ok.status, 200, `${p} as the super user`);
    await ok.arrayBuffer();
  }
  const conf = (await (await fetch(`${s.url}/v1/admin/conf`, { headers: { authorization: basic('admin', 'pw') } })).json()) as Record<string, unknown>;
  t.equal(conf.superDigest, undefined, 'conf never shows the super digest');
  t.equal(conf.superDigestSet, true);
});

t.test("without a super user, a snapshot needs ALL on / (ZooKeeper's rule), since it holds every znode's data", async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const snapshot = async (authorization?: string) => {
    const r = await fetch(`${s.url}/v1/admin/snapshot`, { headers: authorization ? { authorization } : {} });
    const body = r.status === 200 ? undefined : ((await r.json()) as { error: string; message: string });
    if (r.status === 200) await r.arrayBuffer();
    return { status: r.status, body };
  };
  const setRootAcl = async (acl: { scheme: string; id: string; perms: string }[], authorization: string) => {
    const r = await fetch(`${s.url}/v1/acl/`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ acl }) });
    t.equal(r.status, 200, `setACL / to ${JSON.stringify(acl)}`);
  };
  const alice = basic('alice', 'pw');
  const aliceId = 'alice:' + createHash('sha1').update('alice:pw').digest('base64');
  t.equal((await snapshot()).status, 200, "/'s default ACL (world:anyone:cdrwa): anyone, as in ZooKeeper");
  t.equal((await fetch(`${s.url}/v1/admin/dump`)).status, 200, 'the other admin endpoints stay open');

  await setRootAcl([{ scheme: 'digest', id: aliceId, perms: 'cdrwa' }, { scheme: 'world', id: 'anyone', perms: 'r' }], alice);
  const anon = await snapshot();
  t.equal(anon.status, 401, 'anonymous, once / is restricted');
  t.match(anon.body, { error: 'AuthFailed', message: /ALL permission \(cdrwa\) on \// });
  t.match(await snapshot(basic('bob', 'pw')), { status: 403, body: { error: 'NoAuth' } }, 'another user: 403');
  t.equal((await snapshot(alice)).status, 200, 'the user holding cdrwa on /');
  t.equal((await fetch(`${s.url}/v1/znodes/`)).status, 200, 'reading / stays open to anyone (world:anyone:r)');

  await setRootAcl([{ scheme: 'digest', id: aliceId, perms: 'rwa' }], alice);
  t.match(await snapshot(alice), { status: 403, body: { error: 'NoAuth' } }, 'rwa on / is not ALL');

  await setRootAcl([{ scheme: 'ip', id: '127.0.0.0/8', perms: 'cdrwa' }], alice);
  t.equal((await snapshot()).status, 200, 'an ip ACL naming the client counts, as in ZooKeeper');
});

t.test('cons and stat are bounded by adminListLimit and say when they are truncated', async (t) => {
  const s = await startTestServer({ adminListLimit: 1 });
  t.teardown(() => s.destroy());
  // Two keep-alive connections held open at once (they stay in the agent's pool after answering).
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  t.teardown(() => agent.destroy());
  const viaAgent = () =>
    new Promise<void>((resolve) => {
      request(`${s.url}/v1/admin/ruok`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      }).end();
    });
  await Promise.all([viaAgent(), viaAgent()]);
  const cons = (await (await fetch(`${s.url}/v1/admin/cons`)).json()) as { connections: unknown[]; truncated: boolean };
  t.equal(cons.connections.length, 1);
  t.equal(cons.truncated, true);
  const stat = (await (await fetch(`${s.url}/v1/admin/stat`)).json()) as { clients: unknown[]; clientsTruncated: boolean };
  t.equal(stat.clients.length, 1);
  t.equal(stat.clientsTruncated, true);
});

t.test('a second snapshot while one streams is 503 with applied:false', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  // Big enough (8 MB) that the copy cannot sit entirely in socket buffers while the client does not read.
  const mb = new Uint8Array(1000 * 1000).fill(7);
  for (let i = 0; i < 8; i++) await fetch(`${s.url}/v1/znodes/big${i}`, { method: 'POST', body: mb });
  const first = await new Promise<import('node:http').IncomingMessage>((resolve) => request(`${s.url}/v1/admin/snapshot`, resolve).end());
  first.pause();
  const second = await fetch(`${s.url}/v1/admin/snapshot`);
  t.equal(second.status, 503);
  t.match(await second.json(), { error: 'ConnectionLoss', applied: false });
  first.resume();
  await new Promise((r) => first.on('end', r));
  // The client can see the end of the body a moment before the server has closed its side of the copy.
  let third = await fetch(`${s.url}/v1/admin/snapshot`);
  for (let i = 0; i < 50 && third.status === 503; i++) {
    await third.arrayBuffer();
    await new Promise((r) => setTimeout(r, 100));
    third = await fetch(`${s.url}/v1/admin/snapshot`);
  }
  t.equal(third.status, 200, 'the next one runs once the first is done');
  t.match(third.headers.get('zk-snapshot-sha256'), /^[0-9a-f]{64}$/);
  await third.arrayBuffer();
});

t.test('ZK-Session on admin words and /metrics: an unknown session is 410, a live one is kept alive', async (t) => {
  const s = await startTestServer({ tickTime: 100, minSessionTimeout: 400, maxSessionTimeout: 30000 });
  t.teardown(() => s.destroy());
  for (const path of ['/v1/admin/srvr', '/v1/admin/ruok', '/metrics']) {
    const r = await fetch(`${s.url}${path}`, { headers: { 'ZK-Session': '0x1' } });
    t.equal(r.status, 410, `${path}: unknown session`);
    t.match(await r.json(), { error: 'SessionExpired' });
  }
  const { sessionId } = (await (await fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeoutMs: 600 }) })).json()) as { sessionId: string };
  // Only srvr requests for twice the timeout: they keep the session.
  for (let i = 0; i < 12; i++) {
    t.equal((await fetch(`${s.url}/v1/admin/srvr`, { headers: { 'ZK-Session': sessionId } })).status, 200);
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal((await fetch(`${s.url}/v1/sessions/${sessionId}`)).status, 200, 'the session lives on');
});
