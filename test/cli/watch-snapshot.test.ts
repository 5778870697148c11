// `zkgate watch` streams events over the real WebSocket until interrupted; `zkgate snapshot` copies a live
// node's store under concurrent writes and `zkgate restore` makes a data dir a new server serves it from.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnServer, tempDir, ZKGATE_BIN } from '../helpers/server.js';
import { zk } from './run.js';

const dir = tempDir();
const server = await spawnServer(['--http-port', String(await freePort()), '--data-dir', join(dir, 'data'), '--log-level', 'warn']);
const U = ['--url', server.url];
t.teardown(async () => {
  server.proc.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
});

const post = (p: string, body = '') => fetch(`${server.url}/v1/znodes${p}`, { method: 'POST', body });
const put = (p: string, body: string) => fetch(`${server.url}/v1/znodes${p}`, { method: 'PUT', body });

/** Starts `zkgate watch ...`, resolves once it has armed the watch (its stderr says so). */
async function startWatch(args: string[]) {
  const p = spawn(process.execPath, [ZKGATE_BIN, 'watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  const armed = new Promise<void>((resolve, reject) => {
    p.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes('watching ')) resolve();
    });
    p.once('exit', () => reject(new Error(`watch exited before arming: ${stderr}`)));
  });
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  await armed;
  return { p, exited, out: () => stdout, err: () => stderr };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

t.test('watch streams persistent events in zxid order until Ctrl-C, then exits 0', async (t) => {
  await post('/w');
  const w = await startWatch(['/w', '--kind', 'persistentRecursive', ...U]);
  await post('/w/child');
  await put('/w', 'x');
  await put('/w/child', 'y');
  await until(() => w.out().split('\n').length > 3, 'three events');
  w.p.kill('SIGINT');
  t.equal(await w.exited, 0);
  const lines = w.out().trim().split('\n');
  t.match(lines[0], /^WatchedEvent state:SyncConnected type:NodeCreated path:\/w\/child zxid:\d+$/);
  t.match(lines[1], /type:NodeDataChanged path:\/w zxid:/);
  t.match(lines[2], /type:NodeDataChanged path:\/w\/child zxid:/);
});

t.test('watch --json prints one event object a line; a one-shot kind is re-armed after each event', async (t) => {
  await post('/o', 'a');
  const w = await startWatch(['/o', '--kind', 'data', '--json', ...U]);
  await put('/o', 'b');
  await until(() => w.out().includes('\n'), 'first event');
  await put('/o', 'c');
  await until(() => w.out().split('\n').length > 2, 'second event');
  w.p.kill('SIGINT');
  t.equal(await w.exited, 0);
  const events = w.out().trim().split('\n').map((l) => JSON.parse(l));
  t.equal(events.length, 2);
  for (const e of events) t.match(e, { type: 'event', event: 'NodeDataChanged', path: '/o', zxid: /^\d+$/ });
  t.ok(BigInt(events[1].zxid) > BigInt(events[0].zxid));
});

t.test('watch on a missing node with a data watch prints NoNode and exits 1', async (t) => {
  const r = await zk(['watch', '/missing', '--kind', 'data', ...U]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^NoNode/);
});

t.test('snapshot under concurrent writes, restore into a fresh dir: a server there serves the same tree', async (t) => {
  await post('/snap', 'root');
  for (let i = 0; i < 20; i++) await post(`/snap/n${i}`, `v${i}`);
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
  const s2 = await spawnServer(['--http-port', String(await freePort()), '--data-dir', restored, '--log-level', 'warn']);
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
