// SIGTERM on a server child process under concurrent writes: it closes WebSockets with 1001, exits 0, and every
// write it acknowledged is there after a restart on the same data dir.
import t from 'tap';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { freePort, tempDir } from '../helpers/server.js';
import { startNode } from '../cli/run.js';

t.test('SIGTERM under concurrent writes loses nothing acknowledged and exits 0', async (t) => {
  const dataDir = tempDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const args = ['--http-port', String(port), '--data-dir', dataDir, '--log-level', 'warn'];
  const server = await startNode(args);
  const base = server.url;
  t.equal((await fetch(`${base}/v1/znodes/s`, { method: 'POST' })).status, 201);

  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/watch`);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const wsClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));

  const acked: string[] = [];
  const statuses = new Map<number, number>();
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const path = `/s/w${w}-${i}`;
      try {
        const r = await fetch(`${base}/v1/znodes${path}`, { method: 'POST', body: `v${i}` });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        await r.arrayBuffer();
        if (r.status === 201) acked.push(path);
        else if (r.status === 503) t.equal(r.headers.get('connection'), 'close', 'a request refused while stopping is told to close');
        else t.fail(`unexpected status ${r.status}`);
      } catch {
        return; // the server has stopped listening
      }
    }
  };
  const writers = Array.from({ length: 8 }, (_, w) => writer(w));
  while (acked.length < 100) await new Promise((r) => setTimeout(r, 10));
  server.proc.kill('SIGTERM');
  const exit = await server.exited;
  stop = true;
  await Promise.all(writers);
  t.same(exit, { code: 0, signal: null }, 'exits 0');
  t.equal(await wsClosed, 1001, 'WebSockets are closed with 1001 (going away)');
  t.ok(acked.length >= 100, `${acked.length} writes acknowledged`);

  const again = await startNode(args);
  t.teardown(async () => {
    again.proc.kill('SIGTERM');
    await again.exited;
  });
  const kids = new Set(((await (await fetch(`${again.url}/v1/znodes/s?children`)).json()) as { children: string[] }).children);
  const lost = acked.filter((p) => !kids.has(p.slice('/s/'.length)));
  t.same(lost, [], 'every acknowledged write is on disk after the restart');
});
