// The zkCli-like commands against a real server child process, run as `node dist/bundle/zkgate.js ...`.
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
  const [b, seq] = await Promise.all([zk(['create', '/app/b', ...U]), zk(['create', '-s', '/app/job-', 'x', ...U])]);
  t.equal(b.code, 0, b.stderr);
  t.match(seq.stdout, /^Created \/app\/job-\d{10}\n$/);
  const [ls, get] = await Promise.all([zk(['ls', '/app', ...U]), zk(['get', '/app', ...U])]);
  t.equal(ls.code, 0);
  t.match(ls.stdout, /^\[b, job-\d{10}\]\n$/);
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
  for (const r of runs) t.equal(r.code, 0, r.stderr);
  const [get, ls, st, cr, sync] = runs.map((r) => JSON.parse(r.stdout || 'null'));
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

