// What each side of a peer link logs when the link cannot be made, over real loopback TCP: the higher id (which
// only accepts) names a peer with the wrong secret and a peer that never dials; repeated refusals log once.
import t from 'tap';
import net from 'node:net';
import { logInto } from '../helpers/log.js';
import { encodeValue, frame } from '../../server/quorum/frames.js';
import { PeerTransport, type PeerAddr } from '../../server/quorum/transport.js';
import { membersOf } from '../helpers/peers.js';
import { freePort } from '../helpers/server.js';

interface Line {
  level: number;
  msg: string;
  peer?: number;
  address?: string;
}

function node(id: number, peers: PeerAddr[], secret: string, lines: Line[], notDialedWarnMs?: number) {
  const me = peers.find((p) => p.id === id) as PeerAddr;
  const log = logInto(lines, 'info');
  return new PeerTransport({ myId: id, listenHost: me.host, listenPort: me.port, peers: peers.filter((p) => p.id !== id), membership: membersOf(peers), secret, maxFrameBytes: 1 << 20, maxQueueBytes: 1 << 20, notDialedWarnMs, log });
}

async function addrs(n: number): Promise<PeerAddr[]> {
  const out: PeerAddr[] = [];
  for (let id = 1; id <= n; id++) out.push({ id, host: '127.0.0.1', port: await freePort() });
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('with mismatched secrets the accepting side logs one error naming the peer, its address and the mismatch', async (t) => {
  const peers = await addrs(2);
  const [dialerLog, acceptorLog]: Line[][] = [[], []];
  const a = node(1, peers, 'one secret', dialerLog);
  const b = node(2, peers, 'another secret', acceptorLog);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  await Promise.all([a.start(), b.start()]);
  await sleep(1500); // several redials (backoff 50, 100, 200, 400, 800 ms)
  const errors = acceptorLog.filter((l) => l.level >= 50);
  t.equal(errors.length, 1, 'one error however often the peer redials');
  t.equal(errors[0]?.peer, 1);
  t.equal(errors[0]?.address, `127.0.0.1:${peers[0]?.port}`);
  t.match(errors[0]?.msg, `peer 1 at 127.0.0.1:${peers[0]?.port}`);
  t.match(errors[0]?.msg, 'ensembleSecret mismatch');
  t.match(b.lastError.get(1), 'ensembleSecret mismatch');
  t.equal(dialerLog.filter((l) => l.level >= 50).length, 1, 'the dialing side logs its own error once too');
});

t.test('a lower-id peer that never dials is named once, with its address, and forgotten when it connects', async (t) => {
  const peers = await addrs(2);
  const [log1, log2]: Line[][] = [[], []];
  const b = node(2, peers, 's', log2, 300);
  t.teardown(() => b.stop());
  await b.start();
  await sleep(1000);
  const warned = log2.filter((l) => /has not connected/.test(l.msg));
  t.equal(warned.length, 1, 'one warning');
  t.equal(warned[0]?.msg, `peer 1 at 127.0.0.1:${peers[0]?.port} has not connected (it dials us)`);
  t.equal(warned[0]?.peer, 1);
  const a = node(1, peers, 's', log1);
  await a.start();
  for (let i = 0; i < 100 && !b.isConnected(1); i++) await sleep(20);
  t.ok(b.isConnected(1), 'the peer connects');
  t.equal(b.lastError.get(1), undefined, 'the warning is cleared');
  await a.stop();
  await sleep(1000);
  t.equal(log2.filter((l) => /has not connected/.test(l.msg)).length, 2, 'named again once after its link went down');
});

t.test('a peer refused as unknown logs the refusal once, not at every redial', async (t) => {
  const peers = await addrs(3);
  const [log1, log2]: Line[][] = [[], []];
  const a = node(1, peers, 's', log1);
  // Node 2's configuration lacks node 1: it refuses node 1's hello.
  const b = node(2, peers.filter((p) => p.id !== 1), 's', log2);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  await Promise.all([a.start(), b.start()]);
  await sleep(1500);
  const refused = log1.filter((l) => l.msg === 'peer refused the connection');
  t.equal(refused.length, 1, 'one line for many refusals');
  t.equal(refused[0]?.address, `127.0.0.1:${peers[1]?.port}`);
  t.match(a.lastError.get(2), 'unknown or unexpected peer id 1');
});

t.test('refusals sent by a process that has proved nothing log only the reasons peers send, not whatever it writes', async (t) => {
  const peers = await addrs(2);
  const lines: Line[] = [];
  const b = node(2, peers, 'the secret', lines, 60_000);
  t.teardown(() => b.stop());
  await b.start();
  // Claims to be peer 1 and refuses with a new made-up reason on each connection.
  for (let i = 0; i < 5; i++) {
    const sock = net.connect(peers[1]?.port as number, '127.0.0.1');
    sock.resume(); // read (and drop) the challenge, so the server's close reaches 'close'
    await new Promise((r) => sock.once('connect', r));
    sock.write(frame(encodeValue({ t: 'hello', id: 1, nonce: new Uint8Array(16) })));
    await sleep(50);
    sock.end(frame(encodeValue({ t: 'denied', reason: `made up ${i}\n${'x'.repeat(1000)}` })));
    await new Promise((r) => sock.once('close', r));
  }
  const refusals = lines.filter((l) => l.msg.includes('refused us'));
  t.equal(refusals.length, 1, 'one line, however the reason varies');
  t.match(refusals[0]?.msg, /refused us: an unrecognised reason$/, 'and not the sender\'s text');
});

t.test('the peer port holds a bounded number of unlinked connections, the oldest closed past it, and a peer links through a flood', async (t) => {
  const peers = await addrs(2);
  const [log1, log2]: Line[][] = [[], []];
  const b = node(2, peers, 's', log2);
  t.teardown(() => b.stop());
  await b.start();
  const me = peers[1] as PeerAddr;
  // Connections without a completed handshake: 16 places (MAX_PENDING_HANDSHAKES), the oldest closed for a newcomer.
  const flood: net.Socket[] = [];
  const closedAt: number[] = [];
  for (let i = 0; i < 40; i++) {
    const s = net.connect(me.port, me.host);
    s.on('error', () => {});
    s.once('close', () => closedAt.push(i));
    flood.push(s);
    await new Promise((r) => s.once('connect', r));
  }
  await sleep(200);
  t.same([...closedAt].sort((x, y) => x - y), Array.from({ length: 24 }, (_, i) => i), 'the 24 oldest were closed as newer ones came; the newest 16 stay (until their handshake times out)');
  t.teardown(() => flood.forEach((s) => s.destroy()));
  const a = node(1, peers, 's', log1);
  t.teardown(() => a.stop());
  await a.start();
  for (let i = 0; i < 100 && !b.isConnected(1); i++) await sleep(50);
  t.ok(b.isConnected(1), 'the peer links while the flood is still open: its connection is the newest');
});
