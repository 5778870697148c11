// The CLI reads a node's children a page at a time, so ls, ls -R, tree and deleteall work on a node whose names take
// more than jute.maxbuffer, which the server refuses to list in one answer (test/standalone/bounded-answers.test.ts).
// Here jute.maxbuffer is 4096 bytes and /d has 600 children of 6 bytes (10 each as counted): more than fit.
import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, tempDir } from '../helpers/server.js';
import { startNode, zk } from './run.js';

const dir = tempDir();
const cfg = join(dir, 'zoo.cfg');
writeFileSync(cfg, [`dataDir=${join(dir, 'data')}`, 'jute.maxbuffer=4096', ''].join('\n'));
const server = await startNode(['--config', cfg, '--http-port', String(await freePort()), '--log-level', 'warn']);
const U = ['--url', server.url];
t.teardown(async () => {
  server.proc.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
});

const NAMES = Array.from({ length: 600 }, (_, i) => `c-${String(i).padStart(4, '0')}`);
async function create(path: string): Promise<void> {
  const r = await fetch(`${server.url}/v1/znodes${path}`, { method: 'POST' });
  if (r.status !== 201) throw new Error(`setup create ${path}: ${r.status}`);
}
await create('/d');
for (let i = 0; i < NAMES.length; i += 50) await Promise.all(NAMES.slice(i, i + 50).map((n) => create(`/d/${n}`)));
await create('/d/c-0000/x');
/** A real answer of this server, whose stat the stand-in below repeats. */
const dStat = (await (await fetch(`${server.url}/v1/znodes/d?stat`)).json()) as { stat: unknown };

t.test('the server refuses the whole listing; ls prints every name, read in pages', async (t) => {
  t.equal((await fetch(`${server.url}/v1/znodes/d?children`)).status, 400, 'too large for one answer');
  const [human, json] = await Promise.all([zk(['ls', '-s', '/d', ...U]), zk(['ls', '/d', '--json', ...U])]);
  t.equal(human.code, 0, human.stderr);
  const [list, ...stat] = human.stdout.split('\n');
  t.equal(list, `[${NAMES.join(', ')}]`, 'all 600, in order');
  t.match(stat.join('\n'), /numChildren = 600/, '-s prints the stat');
  t.equal(json.code, 0, json.stderr);
  const body = JSON.parse(json.stdout) as Record<string, unknown>;
  t.same(Object.keys(body), ['path', 'children', 'stat'], '--json prints the body an unpaged listing has');
  t.same(body.children, NAMES);
});

t.test('ls -R and tree walk it; deleteall removes it', async (t) => {
  const [r, tree] = await Promise.all([zk(['ls', '-R', '/d', ...U]), zk(['tree', '/d', ...U])]);
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['/d', ...NAMES.map((n) => `/d/${n}`), '/d/c-0000/x'], "zkCli's order: all 600 children, then the grandchild");
  t.equal(tree.code, 0, tree.stderr);
  t.equal(tree.stdout.trim().split('\n').length, 1 + 600 + 1, 'tree: the root, 600 children and a grandchild');
  const del = await zk(['deleteall', '/d', ...U]);
  t.equal(del.code, 0, del.stderr);
  t.equal((await fetch(`${server.url}/v1/znodes/d?stat`)).status, 404, 'the subtree is gone');
});

t.test('against a server of a release before pages (it refuses ?limit), ls asks for the whole listing, as before', async (t) => {
  // A stand-in for that release: its answers to these two requests, word for word (session 23's code, 46243ea).
  const seen: string[] = [];
  const old = createServer((req, res) => {
    seen.push(req.url ?? '');
    const paged = new URL(req.url ?? '/', 'http://x').searchParams.has('limit');
    res.writeHead(paged ? 400 : 200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        paged
          ? { error: 'BadArguments', code: -8, message: 'unknown query parameter "limit"' }
          : { path: '/d', children: ['a', 'b'], stat: dStat.stat },
      ),
    );
  });
  await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
  t.teardown(() => old.close());
  const url = `http://127.0.0.1:${(old.address() as AddressInfo).port}`;
  const r = await zk(['ls', '/d', '--url', url]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '[a, b]\n');
  t.same(seen, ['/v1/znodes/d?children&limit=10000', '/v1/znodes/d?children']);
});
