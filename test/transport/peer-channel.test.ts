// The peer channel over real loopback TCP: authenticated links carry messages both ways; a wrong secret,
// a forged frame or an oversized frame never delivers anything.
import t from 'tap';
import net from 'node:net';
import pino from 'pino';
import { PeerTransport } from '../../server/quorum/transport.js';
import { decodeValue, encodeValue, frame } from '../../server/quorum/frames.js';
import { fakeAcceptor, membersOf } from '../helpers/peers.js';
import { freePort } from '../helpers/server.js';

const log = pino({ level: 'silent' });

async function pair(secretA: string, secretB: string) {
  const [pa, pb] = [await freePort(), await freePort()];
  const peers = [
    { id: 1, host: '127.0.0.1', port: pa },
    { id: 2, host: '127.0.0.1', port: pb },
  ];
  const mk = (id: number, port: number, secret: string) =>
    new PeerTransport({ myId: id, listenHost: '127.0.0.1', listenPort: port, peers: peers.filter((p) => p.id !== id), membership: membersOf(peers), secret, maxFrameBytes: 1 << 20, maxQueueBytes: 1 << 20, log });
  const a = mk(1, pa, secretA);
  const b = mk(2, pb, secretB);
  await Promise.all([a.start(), b.start()]);
  return { a, b, pa, pb };
}

function until(pred: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  return new Promise((resolve) => {
    const check = () => (pred() ? resolve(true) : Date.now() > deadline ? resolve(false) : setTimeout(check, 10));
    check();
  });
}

t.test('peers that share the secret connect once and exchange messages in both directions', async (t) => {
  const { a, b } = await pair('s', 's');
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const gotA: unknown[] = [];
  const gotB: unknown[] = [];
  a.on('message', (_f, m) => gotA.push(m));
  b.on('message', (_f, m) => gotB.push(m));
  t.ok(await until(() => a.isConnected(2) && b.isConnected(1)), 'both sides see the link up');
  t.ok(a.send(2, { k: 'x', n: 1, data: new Uint8Array([1, 2, 3]) }));
  t.ok(b.send(1, { k: 'y', n: 2 }));
  t.ok(await until(() => gotA.length === 1 && gotB.length === 1));
  t.same(gotB[0], { k: 'x', n: 1, data: Buffer.from([1, 2, 3]) });
  t.same(gotA[0], { k: 'y', n: 2 });
});

t.test('a peer with a different secret never gets a link, and its messages are not delivered', async (t) => {
  const { a, b } = await pair('right', 'wrong');
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const got: unknown[] = [];
  a.on('message', (_f, m) => got.push(m));
  b.on('message', (_f, m) => got.push(m));
  await new Promise((r) => setTimeout(r, 600));
  t.notOk(a.isConnected(2), 'no link from the right side');
  t.notOk(b.isConnected(1), 'no link from the wrong side');
  t.notOk(b.send(1, { k: 'inject' }), 'sending is refused without a link');
  t.same(got, []);
  t.match(a.lastError.get(2) ?? b.lastError.get(1) ?? '', /authentication|refused/, 'the reason names authentication');
});

t.test('a process without the secret cannot inject a frame into the peer port', async (t) => {
  const { a, b, pb } = await pair('s', 's');
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const got: unknown[] = [];
  b.on('message', (_f, m) => got.push(m));
  const sock = net.connect({ host: '127.0.0.1', port: pb });
  const replies: unknown[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      replies.push(decodeValue(buf.subarray(4, 4 + buf.readUInt32BE(0))));
      buf = buf.subarray(4 + buf.readUInt32BE(0));
    }
  });
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.on('connect', () => r()));
  // Claims to be peer 1, then skips the proof and sends a raft-looking frame.
  sock.write(frame(encodeValue({ t: 'hello', id: 1, nonce: Buffer.alloc(16) })));
  sock.write(frame(encodeValue({ t: 'auth', proof: Buffer.alloc(32) })));
  sock.write(frame(encodeValue({ k: 'raft', m: { type: 'heartbeat', from: 1, to: 2, term: 99 } })));
  await closed;
  t.match(replies.at(-1), { t: 'denied' }, 'the forged proof is denied');
  t.same(got, [], 'nothing was delivered');
});

t.test('an oversized frame ends the connection before it is buffered', async (t) => {
  const { a, b, pb } = await pair('s', 's');
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  const sock = net.connect({ host: '127.0.0.1', port: pb });
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  await new Promise<void>((r) => sock.on('connect', () => r()));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(64 << 20);
  sock.write(head);
  await closed;
  t.pass('the server closed the connection announcing a 64 MiB frame');
});

t.test('a connection still in its handshake when the transport stops is closed, and never comes up', async (t) => {
  const peers = [
    { id: 1, host: '127.0.0.1', port: await freePort() },
    { id: 2, host: '127.0.0.1', port: await freePort() },
  ];
  let authed!: () => void;
  let release!: () => void;
  const gotAuth = new Promise<void>((r) => (authed = r));
  const fake = await fakeAcceptor(peers[1]?.port as number, 's', { beforeOk: () => (authed(), new Promise<void>((r) => (release = r))) });
  const a = new PeerTransport({ myId: 1, listenHost: '127.0.0.1', listenPort: peers[0]?.port as number, peers: peers.slice(1), membership: membersOf(peers), secret: 's', maxFrameBytes: 1 << 20, maxQueueBytes: 1 << 20, log });
  t.teardown(() => fake.stop());
  await a.start();
  await gotAuth;
  await a.stop();
  release();
  t.ok(await until(() => [...fake.sockets].every((s) => s.destroyed)), 'the stopped side closed the connection');
  t.notOk(a.isConnected(2), 'no link came up after stop');
});
