// `zkgate snapshot` copies a live node's store under concurrent writes; `zkgate restore` makes a data dir a new
// server serves the same tree from, and refuses what it must not touch.
import t from 'tap';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir } from '../helpers/server.js';
import { startNode, zk } from './run.js';

const dir = tempDir();
const server = await startNode(['--http-port', String(await freePort()), '--data-dir', join(dir, 'data'), '--log-level', 'warn']);
const U = ['--url', server.url];
t.teardown(async () => {
  server.proc.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
});

const post = (p: string, body = '') => fetch(`${server.url}/v1/znodes${p}`, { method: 'POST', body });

t.test('snapshot under concurrent writes, restore into a fresh dir: a server there serves the same tree', async (t) => {
  await post('/snap', 'root');
  await Promise.all(Array.from({ length: 20 }, (_, i) => post(`/snap/n${i}`, `v${i}`)));
  // Writes keep landing while the snapshot is taken; the copy is one consistent point in time.
  let writing = true;
  let k = 0;
  const writer = (async () => {
    while (writing) await post(`/snap/late${k++}`, 'x');
  })();
  const file = join(dir, 'backup.snapshot');
  const snap = await zk(['snapshot', '--out', file, ...U]);
  writing = false;
  await writer;
  t.equal(snap.code, 0, snap.stderr);
  const m = /at zxid (\d+) \((\d+) znodes/.exec(snap.stdout);
  t.ok(m, snap.stdout);
  const again = await zk(['snapshot', '--out', file, ...U]);
  t.equal(again.code, 1, 'an existing --out is not overwritten without --force');

  const restored = join(dir, 'restored');
  const r = await zk(['restore', '--in', file, '--data-dir', restored]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, `zxid ${m?.[1]}, ${m?.[2]} znodes`);
  const s2 = await startNode(['--http-port', String(await freePort()), '--data-dir', restored, '--log-level', 'warn']);
  try {
    const srvr = (await (await fetch(`${s2.url}/v1/admin/srvr`)).json()) as { zxid: string; nodeCount: number };
    t.equal(srvr.zxid, m?.[1], 'the restored node starts at the snapshot zxid');
    t.equal(String(srvr.nodeCount), m?.[2]);
    for (let i = 0; i < 20; i++) {
      const g = (await (await fetch(`${s2.url}/v1/znodes/snap/n${i}`)).json()) as { data: string };
      t.equal(g.data, `v${i}`);
    }
    // Consistency: exactly the late writes up to the snapshot zxid are there, with no gap.
    const kids = ((await (await fetch(`${s2.url}/v1/znodes/snap?children`)).json()) as { children: string[] }).children;
    const late = kids.filter((c) => c.startsWith('late')).map((c) => Number(c.slice(4))).sort((a, b) => a - b);
    t.same(late, late.map((_, i) => i), 'the late writes in the copy are a prefix of those made');
  } finally {
    s2.proc.kill('SIGTERM');
    await s2.exited;
  }
});

t.test('snapshot --out into a directory that does not exist says so, before fetching anything', async (t) => {
  const r = await zk(['snapshot', '--out', join(dir, 'no-such-dir', 'x.snapshot'), ...U]);
  t.equal(r.code, 1);
  t.match(r.stderr, /cannot write --out .*x\.snapshot: .*no-such-dir is not a directory/);
});

t.test('restore refuses a non-empty data dir and a file that is not a snapshot (exit 1)', async (t) => {
  const full = join(dir, 'full');
  await zk(['restore', '--in', join(dir, 'backup.snapshot'), '--data-dir', full]);
  const twice = await zk(['restore', '--in', join(dir, 'backup.snapshot'), '--data-dir', full]);
  t.equal(twice.code, 1);
  t.match(twice.stderr, /is not empty/);
  const junk = join(dir, 'junk.bin');
  writeFileSync(junk, Buffer.alloc(8192, 7));
  const bad = await zk(['restore', '--in', junk, '--data-dir', join(dir, 'fromjunk')]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /is not a zkgate snapshot/);
  t.notOk(existsSync(join(dir, 'fromjunk', 'zkgate.mdb')), 'nothing half-restored is left');
});

t.test('restore into a pipe whose reader has gone (| head -1) still restores, and exits 0 without a stack trace', async (t) => {
  const file = join(dir, 'piped.snapshot');
  t.equal((await zk(['snapshot', '--out', file, ...U])).code, 0);
  const target = join(dir, 'piped-restore');
  const { spawn } = await import('node:child_process');
  const { ZKGATE_BIN } = await import('../helpers/server.js');
  const p = spawn(process.execPath, [ZKGATE_BIN, 'restore', '--in', file, '--data-dir', target], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.destroy(); // the reader is gone before the first line
  let stderr = '';
  p.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  t.equal(code, 0, stderr);
  t.notMatch(stderr, /EPIPE|\n\s+at /, 'no stack trace');
  const s2 = await startNode(['--http-port', String(await freePort()), '--data-dir', target, '--log-level', 'warn']);
  try {
    t.equal((await fetch(`${s2.url}/v1/admin/ruok`)).status, 200, 'the restored data dir serves');
  } finally {
    s2.proc.kill('SIGTERM');
    await s2.exited;
  }
});
