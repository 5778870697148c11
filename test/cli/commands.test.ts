// The zkCli-like commands against a real server child process: bad usage, ephemeral/container/TTL/ACL creates,
// delete and deleteall, --url failover, --auth, binary data.
import t from 'tap';
import { rmSync } from 'node:fs';
import { freePort, tempDir } from '../helpers/server.js';
import { startNode, zk } from './run.js';

const dataDir = tempDir();
const port = await freePort();
const server = await startNode(['--http-port', String(port), '--data-dir', dataDir, '--log-level', 'warn']);
const url = server.url;
const U = ['--url', url];
t.teardown(async () => {
  server.proc.kill('SIGTERM');
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

async function http(method: string, path: string, body?: string): Promise<{ status: number; json: unknown }> {
  const r = await fetch(url + path, { method, body });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

t.test('bad usage exits 2', async (t) => {
  const cases = [['get'], ['get', 'relative', ...U], ['frobnicate'], ['set', '/x'], ['watch', '/x', '--kind', 'bogus', ...U], ['ls', '/', '--url', 'not a url']];
  const results = await Promise.all(cases.map((args) => zk(args)));
  results.forEach((r, i) => {
    t.equal(r.code, 2, `${cases[i]?.join(' ')} → ${r.stderr}`);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});

t.test('create -e makes an ephemeral whose session closes when the command exits', async (t) => {
  const r = await zk(['create', '-e', '/eph', 'x', ...U]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'Created /eph\n');
  t.equal((await http('GET', '/v1/znodes/eph')).status, 404, 'the ephemeral went with its session');
  const dump = await fetch(url + '/v1/admin/dump').then((x) => x.json() as Promise<{ sessions: unknown[] }>);
  t.same(dump.sessions, [], 'no session left behind');
});

t.test('create with -c, -t and an ACL argument', async (t) => {
  const [cont, ttl, ro] = await Promise.all([zk(['create', '-c', '/cont', ...U]), zk(['create', '-t', '60000', '/ttl', 'x', ...U]), zk(['create', '/ro', 'x', 'world:anyone:r', ...U])]);
  t.equal(cont.code, 0, cont.stderr);
  t.equal(ttl.code, 0, ttl.stderr);
  t.equal(ro.code, 0, ro.stderr);
  const kinds = (await http('GET', '/v1/znodes/ttl?stat')).json as { stat: { dataLength: number } };
  t.equal(kinds.stat.dataLength, 1);
  const acl = (await http('GET', '/v1/acl/ro')).json as { acl: { perms: string }[] };
  t.equal(acl.acl[0]?.perms, 'r');
  const denied = await zk(['set', '/ro', 'y', ...U]);
  t.equal(denied.code, 1);
  t.match(denied.stderr, /^NoAuth/);
});

t.test('delete -v, deleteall removes a subtree, sync prints "Sync is OK"', async (t) => {
  t.equal((await http('POST', '/v1/znodes/d')).status, 201);
  const bad = await zk(['delete', '-v', '7', '/d', ...U]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^BadVersion/);
  t.equal((await zk(['delete', '-v', '0', '/d', ...U])).code, 0);
  t.equal((await http('GET', '/v1/znodes/d')).status, 404);
  for (const p of ['/del', '/del/a', '/del/a/b', '/del/c']) t.equal((await http('POST', '/v1/znodes' + p)).status, 201);
  const [all, sync] = await Promise.all([zk(['deleteall', '/del', ...U]), zk(['sync', '/', ...U])]);
  t.equal(all.code, 0, all.stderr);
  t.equal((await http('GET', '/v1/znodes/del')).status, 404);
  t.equal(sync.stdout, 'Sync is OK\n');
});

t.test('--url entries are tried in turn: a dead server first, then a live one', async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  t.equal((await http('POST', '/v1/znodes/f', 'failover')).status, 201);
  const [r, comma, none] = await Promise.all([zk(['get', '/f', '--url', dead, '--url', url]), zk(['ls', '/', '--url', `${dead},${url}`]), zk(['ls', '/', '--url', dead])]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'failover\n');
  t.equal(comma.code, 0);
  t.match(comma.stdout, /\bf\b/);
  t.equal(none.code, 1);
  t.match(none.stderr, new RegExp(`cannot reach ${dead.replace(/[.]/g, '\\.')}: connection refused`));
  t.notMatch(none.stderr, /\n\s+at /);
});

t.test('--url entries: a member that refuses reads with 503 is passed over for reads and syncs, not for writes', async (t) => {
  const { createServer } = await import('node:http');
  let asked = 0;
  const refusing = createServer((req, res) => {
    asked++;
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ error: 'ConnectionLoss', code: -4, message: 'this node has known no leader since it started', path: null }));
  });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => refusing.close(() => r())));
  const first = `http://127.0.0.1:${(refusing.address() as { port: number }).port}`;
  t.equal((await http('POST', '/v1/znodes/refused', 'r')).status, 201);
  const both = ['--url', first, '--url', url];
  for (const args of [['get', '/refused'], ['ls', '/'], ['stat', '/refused'], ['sync', '/refused']]) {
    const r = await zk([...args, ...both]);
    t.equal(r.code, 0, `${args.join(' ')} goes on to the next member: ${r.stderr}`);
  }
  t.equal((await zk(['get', '/refused', ...both])).stdout, 'r\n');
  const before = asked;
  const w = await zk(['create', '/refused-write', 'w', ...both]);
  t.equal(w.code, 1, 'a write whose outcome that member does not state is not sent again elsewhere');
  t.match(w.stderr, /^ConnectionLoss/);
  t.equal(asked, before + 1);
  t.equal((await http('GET', '/v1/znodes/refused-write')).status, 404);
});

t.test('--auth authenticates as a digest user', async (t) => {
  const { createHash } = await import('node:crypto');
  const digest = 'bob:' + createHash('sha1').update('bob:secret').digest('base64');
  t.equal((await zk(['create', '/private', 'p', `digest:${digest}:cdrwa`, ...U])).code, 0);
  const [anon, bob, wrong] = await Promise.all([zk(['get', '/private', ...U]), zk(['get', '/private', '--auth', 'bob:secret', ...U]), zk(['get', '/private', '--auth', 'bob:wrong', ...U])]);
  t.equal(anon.code, 1);
  t.match(anon.stderr, /^NoAuth/);
  t.equal(bob.code, 0, bob.stderr);
  t.equal(bob.stdout, 'p\n');
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /^NoAuth/);
});

t.test('get prints binary data as its raw bytes', async (t) => {
  await fetch(url + '/v1/znodes/bin', { method: 'POST', body: new Uint8Array([0xff, 0x00, 0x01]) });
  const [r, raw] = await Promise.all([zk(['get', '/bin', '--json', ...U]), zk(['get', '/bin', ...U], { binary: true })]);
  t.equal(JSON.parse(r.stdout).encoding, 'base64');
  t.equal(raw.code, 0);
  t.same([...(raw.raw ?? Buffer.alloc(0))], [0xff, 0x00, 0x01, 0x0a], 'the raw bytes, then a newline');
});
