// ls -R, tree, getAcl and setAcl against a real server child process.
import t from 'tap';
import { rmSync } from 'node:fs';
import { freePort, tempDir } from '../helpers/server.js';
import { startNode, zk } from './run.js';

const dataDir = tempDir();
const server = await startNode(['--http-port', String(await freePort()), '--data-dir', dataDir, '--log-level', 'warn']);
const U = ['--url', server.url];
t.teardown(async () => {
  server.proc.kill('SIGTERM');
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

for (const p of ['/t', '/t/b', '/t/a', '/t/a/x', '/t/c']) {
  const r = await fetch(`${server.url}/v1/znodes${p}`, { method: 'POST' });
  if (r.status !== 201) throw new Error(`setup create ${p}: ${r.status}`);
}

t.test("ls -R prints every path of the subtree in zkCli's order (a node's children, then into each); --json one body a line, depth-first", async (t) => {
  const [human, json, missing] = await Promise.all([zk(['ls', '-R', '/t', ...U]), zk(['ls', '-R', '/t', '--json', ...U]), zk(['ls', '-R', '/none', ...U])]);
  t.equal(human.code, 0, human.stderr);
  t.equal(human.stdout, '/t\n/t/a\n/t/b\n/t/c\n/t/a/x\n', 'as ZKUtil.visitSubTreeDFS prints it');
  const bodies = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.same(bodies.map((b) => b.path), ['/t', '/t/a', '/t/a/x', '/t/b', '/t/c']);
  t.same(bodies[0].children, ['a', 'b', 'c']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^NoNode/);
});

t.test('tree prints an indented tree; --depth limits it', async (t) => {
  const [full, shallow] = await Promise.all([zk(['tree', '/t', ...U]), zk(['tree', '/t', '--depth', '1', ...U])]);
  t.equal(full.code, 0, full.stderr);
  t.equal(full.stdout, '/t\n├── a\n│   └── x\n├── b\n└── c\n');
  t.equal(shallow.stdout, '/t\n├── a\n├── b\n└── c\n');
  const negative = await zk(['tree', '/t', '--depth', '-1', ...U]);
  t.equal(negative.code, 2, 'a negative --depth is bad usage');
  t.match(negative.stderr, /--depth must be 0 or more/);
});

t.test('getAcl prints zkCli lines; setAcl replaces the ACL, with -v as compare-and-set on aversion', async (t) => {
  const before = await zk(['getAcl', '/t/b', ...U]);
  t.equal(before.stdout, "'world,'anyone\n: cdrwa\n");
  const stale = await zk(['setAcl', '-v', '3', '/t/b', 'world:anyone:r', ...U]);
  t.equal(stale.code, 1);
  t.match(stale.stderr, /^BadVersion/);
  const set = await zk(['setAcl', '-s', '/t/b', 'world:anyone:rw,ip:127.0.0.1:cdrwa', ...U]);
  t.equal(set.code, 0, set.stderr);
  t.match(set.stdout, /aclVersion = 1/);
  const [after, json] = await Promise.all([zk(['getAcl', '/t/b', ...U]), zk(['getAcl', '/t/b', '--json', ...U])]);
  t.equal(after.stdout, "'world,'anyone\n: rw\n'ip,'127.0.0.1\n: cdrwa\n");
  const body = JSON.parse(json.stdout);
  t.same(body.acl, [
    { scheme: 'world', id: 'anyone', perms: 'rw' },
    { scheme: 'ip', id: '127.0.0.1', perms: 'cdrwa' },
  ]);
  t.equal(body.stat.aversion, 1);
  const bad = await zk(['setAcl', '/t/b', 'nonsense', ...U]);
  t.equal(bad.code, 2, 'a malformed ACL is bad usage');
});
