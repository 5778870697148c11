// The zkCli-like commands against a real server child process, run as `node dist/bin/zkgate.js ...`.
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

t.test('create prints "Created <path>", ls lists children as zkCli does, get prints the data', async (t) => {
  const c = await zk(['create', '/app', 'hello', ...U]);
  t.equal(c.code, 0, c.stderr);
  t.equal(c.stdout, 'Created /app\n');
  t.equal((await zk(['create', '/app/b', ...U])).code, 0);
  const seq = await zk(['create', '-s', '/app/job-', 'x', ...U]);
  t.match(seq.stdout, /^Created \/app\/job-\d{10}\n$/);
  const ls = await zk(['ls', '/app', ...U]);
  t.equal(ls.code, 0);
  t.match(ls.stdout, /^\[b, job-\d{10}\]\n$/);
  const get = await zk(['get', '/app', ...U]);
  t.equal(get.stdout, 'hello\n');
});

t.test('stat, get -s and ls -s print zkCli stat lines', async (t) => {
  const [s, g, l] = await Promise.all([zk(['stat', '/app', ...U]), zk(['get', '-s', '/app', ...U]), zk(['ls', '-s', '/app', ...U])]);
  t.equal(s.code, 0);
  const keys = s.stdout.trim().split('\n').map((l) => l.split(' = ')[0]);
  t.same(keys, ['cZxid', 'ctime', 'mZxid', 'mtime', 'pZxid', 'cversion', 'dataVersion', 'aclVersion', 'ephemeralOwner', 'dataLength', 'numChildren']);
  t.match(s.stdout, /cZxid = 0x[0-9a-f]+\n/);
  t.match(s.stdout, /ctime = \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}\n/);
  t.match(s.stdout, /dataLength = 5\nnumChildren = 2\n$/);
  t.match(g.stdout, /^hello\ncZxid = /);
  t.match(l.stdout, /^\[b, job-\d+\]\ncZxid = /);
});

t.test('--json prints the REST response body of the operation', async (t) => {
  const runs = await Promise.all([
    zk(['get', '/app', '--json', ...U]),
    zk(['ls', '/app', '--json', ...U]),
    zk(['stat', '/app', '--json', ...U]),
    zk(['create', '/j', 'v', '--json', ...U]),
    zk(['sync', '/', '--json', ...U]),
  ]);
  const [get, ls, st, cr, sync] = runs.map((r) => JSON.parse(r.stdout));
  t.same(Object.keys(get).sort(), ['data', 'encoding', 'path', 'stat']);
  t.equal(get.data, 'hello');
  t.same(Object.keys(ls).sort(), ['children', 'path', 'stat']);
  t.same(Object.keys(st).sort(), ['path', 'stat']);
  t.equal(cr.path, '/j');
  t.equal(cr.stat.dataLength, 1);
  t.match(sync.zxid, /^\d+$/);
});

t.test('set with the right version succeeds; with a stale one prints BadVersion and exits 1', async (t) => {
  const ok = await zk(['set', '/app', 'v2', '-v', '0', ...U]);
  t.equal(ok.code, 0, ok.stderr);
  t.equal(ok.stdout, '');
  const stale = await zk(['set', '/app', 'v3', '-v', '0', ...U]);
  t.equal(stale.code, 1);
  t.match(stale.stderr, /^BadVersion/);
  t.equal((await http('GET', '/v1/znodes/app')).json && ((await http('GET', '/v1/znodes/app')).json as { data: string }).data, 'v2');
  const s = await zk(['set', '-s', '/app', 'v3', ...U]);
  t.match(s.stdout, /dataVersion = 2/);
});

t.test('ZooKeeper errors print their name and exit 1', async (t) => {
  const [missing, exists, notEmpty, json] = await Promise.all([
    zk(['get', '/nope', ...U]),
    zk(['create', '/app', ...U]),
    zk(['delete', '/app', ...U]),
    zk(['get', '/nope', '--json', ...U]),
  ]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^NoNode/, missing.stderr);
  t.equal(missing.stdout, '');
  t.equal(exists.code, 1);
  t.match(exists.stderr, /^NodeExists/, exists.stderr);
  t.equal(notEmpty.code, 1);
  t.match(notEmpty.stderr, /^NotEmpty/, notEmpty.stderr);
  t.equal(json.code, 1);
  t.equal(JSON.parse(json.stderr).error, 'NoNode');
});

t.test('bad usage exits 2', async (t) => {
  const cases = [['get'], ['get', 'relative', ...U], ['frobnicate'], ['set', '/app'], ['watch', '/x', '--kind', 'bogus', ...U], ['ls', '/', '--url', 'not a url']];
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
  t.equal((await zk(['create', '-c', '/cont', ...U])).code, 0);
  const ttl = await zk(['create', '-t', '60000', '/ttl', 'x', ...U]);
  t.equal(ttl.code, 0, ttl.stderr);
  t.equal((await zk(['create', '/ro', 'x', 'world:anyone:r', ...U])).code, 0);
  const acl = (await http('GET', '/v1/acl/ro')).json as { acl: { perms: string }[] };
  t.equal(acl.acl[0]?.perms, 'r');
  const denied = await zk(['set', '/ro', 'y', ...U]);
  t.equal(denied.code, 1);
  t.match(denied.stderr, /^NoAuth/);
});

t.test('delete -v, deleteall removes a subtree, sync prints "Sync is OK"', async (t) => {
  t.equal((await zk(['create', '/d', ...U])).code, 0);
  const bad = await zk(['delete', '-v', '7', '/d', ...U]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^BadVersion/);
  t.equal((await zk(['delete', '-v', '0', '/d', ...U])).code, 0);
  t.equal((await http('GET', '/v1/znodes/d')).status, 404);
  for (const p of ['/del', '/del/a', '/del/a/b', '/del/c']) t.equal((await http('POST', '/v1/znodes' + p)).status, 201);
  const all = await zk(['deleteall', '/del', ...U]);
  t.equal(all.code, 0, all.stderr);
  t.equal((await http('GET', '/v1/znodes/del')).status, 404);
  const sync = await zk(['sync', '/', ...U]);
  t.equal(sync.stdout, 'Sync is OK\n');
});

t.test('--url entries are tried in turn: a dead server first, then a live one', async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const r = await zk(['get', '/app', '--url', dead, '--url', url]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'v3\n');
  const comma = await zk(['ls', '/', '--url', `${dead},${url}`]);
  t.equal(comma.code, 0);
  t.match(comma.stdout, /app/);
  const none = await zk(['ls', '/', '--url', dead]);
  t.equal(none.code, 1);
  t.match(none.stderr, new RegExp(`cannot reach ${dead.replace(/[.]/g, '\\.')}: connection refused`));
  t.notMatch(none.stderr, /\n\s+at /);
});

t.test('--auth authenticates as a digest user', async (t) => {
  const { createHash } = await import('node:crypto');
  const digest = 'bob:' + createHash('sha1').update('bob:secret').digest('base64');
  t.equal((await zk(['create', '/private', 'p', `digest:${digest}:cdrwa`, ...U])).code, 0);
  const anon = await zk(['get', '/private', ...U]);
  t.equal(anon.code, 1);
  t.match(anon.stderr, /^NoAuth/);
  const bob = await zk(['get', '/private', '--auth', 'bob:secret', ...U]);
  t.equal(bob.code, 0, bob.stderr);
  t.equal(bob.stdout, 'p\n');
  t.equal((await zk(['get', '/private', '--auth', 'bob:wrong', ...U])).code, 1);
});

t.test('get prints binary data as its raw bytes', async (t) => {
  await fetch(url + '/v1/znodes/bin', { method: 'POST', body: new Uint8Array([0xff, 0x00, 0x01]) });
  const r = await zk(['get', '/bin', '--json', ...U]);
  t.equal(JSON.parse(r.stdout).encoding, 'base64');
  const raw = await zk(['get', '/bin', ...U]);
  t.equal(raw.code, 0);
  t.equal(Buffer.from(raw.stdout, 'latin1').length > 0, true);
});
