// The pre-built WebSocket event frame (wsTextFrame): written raw to an upgraded socket, a real ws client reads it as
// the same text message for every length encoding (7-bit, 16-bit, 64-bit).
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { wsTextFrame } from '../../server/watches/hub.js';

t.test('a raw wsTextFrame arrives as one text message with the payload intact, for every length encoding', async (t) => {
  const lengths = [0, 1, 125, 126, 65535, 65536, 70000];
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = createServer();
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, () => {
      for (const n of lengths) socket.write(wsTextFrame(Buffer.from('x'.repeat(n) + `|${n}`)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  const got: { text: string; binary: boolean }[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (d, isBinary) => {
      got.push({ text: d.toString(), binary: isBinary });
      if (got.length === lengths.length) resolve();
    });
    ws.on('error', reject);
    ws.on('close', () => reject(new Error('closed before every frame arrived')));
  });
  ws.terminate();
  t.same(
    got.map((g) => ({ len: g.text.length, binary: g.binary, tail: g.text.slice(g.text.lastIndexOf('|')) })),
    lengths.map((n) => ({ len: n + `|${n}`.length, binary: false, tail: `|${n}` })),
  );
  t.ok(got.every((g) => /^x*\|\d+$/.test(g.text)), 'payload bytes intact');
});
