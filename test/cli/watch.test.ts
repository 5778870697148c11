// `zkgate watch` streams events over the real WebSocket (/v1/watch) until interrupted.
import t from 'tap';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir, ZKGATE_BIN } from '../helpers/server.js';
import { startNode, zk } from './run.js';
import { untracked } from '../helpers/untracked.js';

const dir = tempDir();
const server = await startNode(['--http-port', String(await freePort()), '--data-dir', join(dir, 'data'), '--log-level', 'warn']);
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
  const p = spawn(...untracked(process.execPath, [ZKGATE_BIN, 'watch', ...args]), { stdio: ['ignore', 'pipe', 'pipe'] });
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


for (const kind of ['data', 'children']) {
  t.test(`a ${kind} watch whose node is deleted prints NodeDeleted, says the node is gone and exits 0`, async (t) => {
    await post(`/gone-${kind}`, 'a');
    const w = await startWatch([`/gone-${kind}`, '--kind', kind, ...U]);
    t.equal((await fetch(`${server.url}/v1/znodes/gone-${kind}`, { method: 'DELETE' })).status, 204);
    const code = await Promise.race([w.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 10000))]);
    if (code === 'running') w.p.kill('SIGINT');
    t.equal(code, 0, 'it exits by itself');
    t.match(w.out(), new RegExp(`^WatchedEvent state:SyncConnected type:NodeDeleted path:/gone-${kind} zxid:\\d+\\n$`));
    t.match(w.err(), new RegExp(`zkgate: /gone-${kind} no longer exists; watch ended`));
  });
}
