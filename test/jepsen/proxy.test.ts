// The link proxy with plain sockets speaking length-prefixed frames: a one-way drop loses only that
// direction's frames and keeps the connection open; a delay holds frames back but keeps their order.
import t from 'tap';
import net from 'node:net';
import { HEALTHY, LinkProxy } from './proxy.js';

function frame(s: string): Buffer {
  const b = Buffer.from(s);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
}

function frames(sock: net.Socket): string[] {
  const got: string[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      const len = buf.readUInt32BE(0);
      got.push(buf.subarray(4, 4 + len).toString());
      buf = buf.subarray(4 + len);
    }
  });
  return got;
}

async function pair(t: { teardown(fn: () => Promise<void>): void }) {
  let accepted: (s: net.Socket) => void = () => {};
  const serverSide = new Promise<net.Socket>((r) => (accepted = r));
  const target = net.createServer((s) => accepted(s));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  const port = (target.address() as net.AddressInfo).port;
  const proxy = new LinkProxy(1, 2, port, () => 0.5);
  const proxyPort = await proxy.start();
  const client = net.connect({ host: '127.0.0.1', port: proxyPort });
  const server = await serverSide;
  t.teardown(async () => {
    client.destroy();
    server.destroy();
    await proxy.stop();
    await new Promise<void>((r) => target.close(() => r()));
  });
  return { proxy, client, server, toServer: frames(server), toClient: frames(client) };
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

t.test('a one-way drop loses frames in one direction only and never closes the connection', async (t) => {
  const { proxy, client, server, toServer, toClient } = await pair(t);
  client.write(frame('a1'));
  await settle();
  proxy.set(1, { ...HEALTHY, drop: true });
  client.write(frame('a2'));
  server.write(frame('b1'));
  await settle();
  proxy.heal();
  client.write(frame('a3'));
  await settle();
  t.same(toServer, ['a1', 'a3'], 'the frame sent during the drop is lost');
  t.same(toClient, ['b1'], 'the other direction still flows');
  t.notOk(client.destroyed || server.destroyed, 'both ends are still connected');
  t.equal(proxy.stats().dropped, 1);
});

t.test('a delay holds frames back and releases them in order', async (t) => {
  const { proxy, client, toServer } = await pair(t);
  proxy.set(1, { ...HEALTHY, delayMs: [400, 500] });
  const sent = performance.now();
  for (let i = 0; i < 5; i++) client.write(frame(`m${i}`));
  await settle(50);
  proxy.heal();
  client.write(frame('after'));
  await settle(100);
  t.same(toServer, [], 'nothing arrives before the delay');
  while (toServer.length < 6 && performance.now() - sent < 5000) await settle(20);
  t.same(toServer, ['m0', 'm1', 'm2', 'm3', 'm4', 'after'], 'frames (even one sent after healing) arrive in order');
});

t.test('a frame split across TCP segments is still handled as one frame', async (t) => {
  const { proxy, client, toServer } = await pair(t);
  const f = frame('split-frame');
  client.write(f.subarray(0, 3));
  await settle(50);
  client.write(f.subarray(3));
  await settle();
  t.same(toServer, ['split-frame']);
  t.equal(proxy.stats().frames, 1);
});
