// Regression (Jepsen seed 1001): a frame that is not a well-formed handshake message, arriving on a
// connection this node dialed before the handshake completed (e.g. a signed Raft frame after the
// peer's `ok` was lost in transit), used to throw out of the socket handler and crash the process.
// The dialer must drop that connection and dial again.
import t from 'tap';
import net from 'node:net';
import pino from 'pino';
import { PeerTransport } from '../../server/quorum/transport.js';
import { encodeValue, frame } from '../../server/quorum/frames.js';
import { fakeAcceptor, membersOf } from '../helpers/peers.js';
import { freePort } from '../helpers/server.js';

const log = pino({ level: 'silent' });

/** A fake peer 2 that answers every hello with `reply` and counts the connections it gets. */
async function fakePeer(reply: Buffer) {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    s.on('error', () => {});
    s.once('data', () => s.write(reply));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections: () => connections,
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function dialer(peerPort: number) {
  const peers = [
    { id: 1, host: '127.0.0.1', port: await freePort() },
    { id: 2, host: '127.0.0.1', port: peerPort },
  ];
  const tr = new PeerTransport({ myId: 1, listenHost: '127.0.0.1', listenPort: peers[0]?.port as number, peers: peers.slice(1), membership: membersOf(peers), secret: 's', maxFrameBytes: 1 << 20, maxQueueBytes: 1 << 20, log });
  await tr.start();
  return tr;
}

async function until(pred: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return pred();
}

const cases: [string, Buffer][] = [
  // What the crash showed: a msgpack value followed by a 16-byte tag ("end of buffer not reached").
  ['a signed message frame instead of a handshake', frame(Buffer.concat([encodeValue({ k: 'raft', m: { type: 'app' } }), Buffer.alloc(16, 7)]))],
  ['bytes that are not msgpack at all', frame(Buffer.from([0xc1, 0xc1, 0xc1, 0xc1]))],
  ['an empty frame', frame(Buffer.alloc(0))],
];

for (const [name, reply] of cases) {
  t.test(`the dialer survives ${name} during the handshake, drops the connection and dials again`, async (t) => {
    const peer = await fakePeer(reply);
    const tr = await dialer(peer.port);
    t.teardown(async () => {
      await tr.stop();
      await peer.stop();
    });
    t.ok(await until(() => peer.connections() >= 2), `the dialer reconnected (${peer.connections()} connections) instead of crashing`);
    t.notOk(tr.isConnected(2), 'no link was established');
  });
}

t.test('a dialer refused by its peer reads nothing more of that connection: an ok behind the refusal links nothing', async (t) => {
  const port = await freePort();
  const peer = await fakeAcceptor(port, 's', { aheadOfOk: [{ t: 'denied', reason: 'ensembleSecret mismatch' }] });
  const tr = await dialer(port);
  let ups = 0;
  tr.on('up', () => ups++);
  t.teardown(async () => {
    await tr.stop();
    await peer.stop();
  });
  t.ok(await until(() => peer.auths.length >= 2), `the dialer dialed again after the refusal (${peer.auths.length} handshakes)`);
  t.equal(ups, 0, 'no link came up from the frames behind the refusal');
  t.notOk(tr.isConnected(2), 'no link is up');
});
