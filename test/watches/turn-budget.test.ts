// One WebSocket's frames are handled a few milliseconds' worth at a time (routes/watch-connection.ts TURN_BUDGET_MS):
// 256 frames that each list a large node made one turn of the event loop last seconds, and held every other client.
import t from 'tap';
import { connect } from 'node:net';
import { freePort, spawnServer, tempDir } from '../helpers/server.js';
import { WatchClient } from './client.js';

t.test('costly frames on one WebSocket: another client is answered between them, not after them all', async (t) => {
  // A server process of its own: a client in the server's process could not read while the server works.
  const s = await spawnServer(['--data-dir', tempDir(), '--http-port', String(await freePort())]);
  t.teardown(() => s.proc.kill('SIGKILL'));
  t.equal((await fetch(`${s.url}/v1/znodes/kids`, { method: 'POST' })).status, 201);
  for (let b = 0; b < 4; b++) {
    const ops = Array.from({ length: 1000 }, (_, i) => ({ op: 'create', path: `/kids/${'k'.repeat(90)}-${b}-${i}` }));
    const r = await fetch(`${s.url}/v1/multi`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ops }) });
    t.equal(r.status, 200, `children batch ${b}`);
  }
  const ws = await WatchClient.openFor(t, s.url);
  let replies = 0;
  ws.ws.on('message', () => replies++);
  // The other client's connection is open before, and its request written in the same tick as the frames: this busy
  // process then has nothing left to do for it to reach the server.
  const side = connect(s.port, '127.0.0.1');
  let answer = '';
  side.on('data', (d: Buffer) => (answer += d.toString()));
  await new Promise((r) => side.once('connect', r));
  const closed = new Promise((r) => side.once('close', r));
  for (let i = 0; i < 256; i++) ws.ws.send(JSON.stringify({ id: 10_000 + i, op: 'watch', path: '/kids', kind: 'children' }));
  side.write('GET /v1/admin/cons HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  await closed;
  // What the server had handled of the WebSocket's frames when it answered: `cons` is read at that moment, on the
  // server (the WebSocket's row counts its frames).
  t.match(answer, /^HTTP\/1\.1 200/);
  const rows = (JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { connections: { kind: string; requests: number }[] }).connections;
  const handled = rows.find((r) => r.kind === 'ws')?.requests ?? -1;
  t.ok(handled >= 0 && handled < 128, `another client was answered when ${handled} of the 256 listings (about 400 KB each) had been made, not after all`);
  // A client slower than the server by more than wsMaxBufferedBytes is closed as a slow consumer (documented); either
  // way the frames do not hang.
  const deadline = Date.now() + 60_000;
  while (replies < 256 && ws.closed === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.ok(replies === 256 || ws.closed?.code === 1008, `every frame answered, or closed as a slow consumer (${replies} replies, closed: ${JSON.stringify(ws.closed)})`);
});
