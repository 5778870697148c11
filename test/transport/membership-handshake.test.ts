// The membership check in the peer handshake, over real loopback TCP: members whose server lists differ are refused
// on both sides with the difference named, once; a corrected member links without the other restarting; a peer of
// an older build (no list) links with a warning; a list no member proved is not believed.
import t, { type Test } from 'tap';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { logInto } from '../helpers/log.js';
import { encodeValue, frame } from '../../server/quorum/frames.js';
import type { Member } from '../../server/quorum/membership.js';
import { membershipProof, proof, settingsProof } from '../../server/quorum/peer-auth.js';
import { PeerTransport, type PeerAddr } from '../../server/quorum/transport.js';
import { fakeAcceptor, handshakeSocket, membersOf, type FakeAcceptorOptions } from '../helpers/peers.js';
import { freePort } from '../helpers/server.js';

interface Line {
  level: number;
  msg: string;
  peer?: number;
  address?: string;
  differences?: string[];
}

const SECRET = 'the secret';

function node(id: number, peers: PeerAddr[], membership: Member[], lines: Line[], sharedSettings?: string) {
  const me = peers.find((p) => p.id === id) as PeerAddr;
  const log = logInto(lines, 'info');
  return new PeerTransport({ myId: id, listenHost: me.host, listenPort: me.port, peers: peers.filter((p) => p.id !== id), membership, sharedSettings, secret: SECRET, maxFrameBytes: 1 << 20, maxQueueBytes: 1 << 20, notDialedWarnMs: 60_000, log });
}

async function addrs(n: number): Promise<PeerAddr[]> {
  const out: PeerAddr[] = [];
  for (let id = 1; id <= n; id++) out.push({ id, host: '127.0.0.1', port: await freePort() });
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pred() && Date.now() < deadline) await sleep(10);
  return pred();
}

/** Member 2, its zoo.cfg corrected, restarts; member 1 (`a`, still redialing) must link with it and clear the reason. */
async function restartCorrected(t: Test, a: PeerTransport, b: PeerTransport, peers: PeerAddr[], sharedSettings?: string): Promise<void> {
  await b.stop();
  const lines: Line[] = [];
  const fixed = node(2, peers, membersOf(peers), lines, sharedSettings);
  t.teardown(() => fixed.stop());
  await fixed.start();
  t.ok(await until(() => a.isConnected(2) && fixed.isConnected(1)), 'the corrected member links without member 1 restarting');
  t.equal(a.lastError.get(2), undefined, 'and the reason is cleared');
  t.same(lines.filter((l) => l.level >= 40), [], 'with nothing to warn about');
}

/** A dialer (member 1) against an acceptor that proves the secret and answers `ok` with `okExtra`: no link may come up. */
async function dialForger(t: Test, peers: PeerAddr[], okExtra: FakeAcceptorOptions['okExtra'], sharedSettings?: string): Promise<{ reason: string | undefined; lines: Line[] }> {
  const lines: Line[] = [];
  const forger = await fakeAcceptor(peers[1]?.port as number, SECRET, { okExtra });
  const dialer = node(1, peers, membersOf(peers), lines, sharedSettings);
  t.teardown(async () => {
    await dialer.stop();
    await forger.stop();
  });
  await dialer.start();
  t.ok(await until(() => dialer.lastError.has(2)));
  await sleep(300);
  t.notOk(dialer.isConnected(2), 'no link');
  return { reason: dialer.lastError.get(2), lines };
}

t.test('members whose lists differ are refused on both sides, once each, naming the peer and the difference', async (t) => {
  const peers = await addrs(2);
  const [log1, log2]: Line[][] = [[], []];
  const a = node(1, peers, membersOf(peers), log1);
  // Member 2's zoo.cfg makes member 1 an observer.
  const b = node(2, peers, membersOf(peers).map((m) => (m.id === 1 ? { ...m, role: 'observer' as const } : m)), log2);
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  await Promise.all([a.start(), b.start()]);
  await sleep(1500); // several redials (backoff 50, 100, 200, 400, 800 ms)
  t.notOk(a.isConnected(2) || b.isConnected(1), 'no link on either side');
  const [p1, p2] = [`127.0.0.1:${peers[0]?.port}`, `127.0.0.1:${peers[1]?.port}`];
  const e1 = log1.filter((l) => l.level >= 50);
  const e2 = log2.filter((l) => l.level >= 50);
  t.same(
    e1.map((l) => [l.msg, l.peer, l.address, l.differences]),
    [[`peer 2 at ${p2} has a different ensemble: server.1 has role participant here, observer there`, 2, p2, ['server.1 has role participant here, observer there']]],
    'the dialer: one error, however often it redials',
  );
  t.same(
    e2.map((l) => [l.msg, l.peer, l.address]),
    [[`peer 1 at ${p1} has a different ensemble: server.1 has role observer here, participant there`, 1, p1]],
    'the acceptor: one error, from its side',
  );
  t.equal(a.lastError.get(2), e1[0]?.msg, 'the reason /v1/admin/cluster shows');
  t.equal(b.lastError.get(1), e2[0]?.msg);

  // The operator fixes member 2's zoo.cfg and restarts it; member 1 keeps redialing and links.
  await restartCorrected(t, a, b, peers);
});

t.test('an extra server on one side is named as such, on each side', async (t) => {
  const peers = await addrs(3);
  const [log1, log3]: Line[][] = [[], []];
  const two = peers.filter((p) => p.id !== 2);
  const a = node(1, two, membersOf(two), log1);
  const c = node(3, two, membersOf(peers), log3); // lists server.2, which member 1 does not
  t.teardown(() => Promise.all([a.stop(), c.stop()]));
  await Promise.all([a.start(), c.start()]);
  t.ok(await until(() => a.lastError.has(3) && c.lastError.has(1)));
  const line2 = `server.2=127.0.0.1:${peers[1]?.port}:${peers[1]?.port}:participant`;
  t.equal(a.lastError.get(3), `peer 3 at 127.0.0.1:${peers[2]?.port} has a different ensemble: it lists ${line2}, which this member does not`);
  t.equal(c.lastError.get(1), `peer 1 at 127.0.0.1:${peers[0]?.port} has a different ensemble: this member lists ${line2}, which it does not`);
});

t.test('an older dialer that sends no list links, with one warning on the accepting side', async (t) => {
  const peers = await addrs(2);
  const lines: Line[] = [];
  const b = node(2, peers, membersOf(peers), lines);
  t.teardown(() => b.stop());
  await b.start();
  for (let i = 0; i < 2; i++) {
    const s = net.connect(peers[1]?.port as number, '127.0.0.1');
    const h = handshakeSocket(s);
    await new Promise((r) => s.once('connect', r));
    const mine = randomBytes(16);
    h.send({ t: 'hello', id: 1, nonce: mine });
    const challenge = await h.next();
    h.send({ t: 'auth', proof: proof(SECRET, 'C', mine, Buffer.from(challenge.nonce as Uint8Array), 1, 2) });
    t.match(await h.next(), { t: 'ok' }, 'it is let in');
    t.ok(await until(() => b.isConnected(1)), 'and linked');
    s.destroy();
    await until(() => !b.isConnected(1));
  }
  const warned = lines.filter((l) => l.level === 40 && /sent no ensemble membership/.test(l.msg));
  t.equal(warned.length, 1, 'warned once, not at every connection');
  t.equal(warned[0]?.msg, `peer 1 at 127.0.0.1:${peers[0]?.port} sent no ensemble membership (an older zkgate?): linked without checking that it lists the same servers`);
  t.same(lines.filter((l) => l.level >= 50), []);
});

t.test('an older acceptor that answers without a list gets a link, with one warning on the dialing side', async (t) => {
  const peers = await addrs(2);
  const lines: Line[] = [];
  const older = await fakeAcceptor(peers[1]?.port as number, SECRET);
  const a = node(1, peers, membersOf(peers), lines);
  t.teardown(async () => {
    await a.stop();
    await older.stop();
  });
  await a.start();
  t.ok(await until(() => a.isConnected(2)), 'linked');
  t.match(older.auths[0], { t: 'auth', members: /^server\.1=127\.0\.0\.1:\d+:\d+:participant\nserver\.2=/ }, 'the dialer sent its list, which an older peer ignores');
  t.equal(lines.filter((l) => /sent no ensemble membership/.test(l.msg)).length, 1);
});

t.test('a list whose proof does not hold is not believed: no difference is claimed, and no link is made', async (t) => {
  const peers = await addrs(2);
  const other = 'server.1=127.0.0.1:1:1:participant\nserver.9=10.9.9.9:1:1:participant';
  // Proves the secret, but the list it sends is not the one its proof covers.
  const { reason, lines } = await dialForger(t, peers, (d, a) => ({ members: other, membersProof: membershipProof(SECRET, 'S', d, a, 1, 2, 'server.1=x:1:1:participant') }));
  t.equal(reason, `peer 2 at 127.0.0.1:${peers[1]?.port} sent an ensemble membership that failed its integrity check`);
  t.notMatch(JSON.stringify(lines), '10.9.9.9', 'nothing of the unproven list is logged');
});

t.test('a refusal "for membership" from a process that has proved nothing claims no difference', async (t) => {
  const peers = await addrs(2);
  const lines: Line[] = [];
  const sockets = new Set<net.Socket>();
  // Answers the hello at once, before any proof, with a made-up list and proof.
  const liar = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('data', () => s.end(frame(encodeValue({ t: 'denied', reason: 'ensemble membership mismatch', members: 'server.9=10.9.9.9:1:1:participant', membersProof: randomBytes(32) }))));
  });
  await new Promise<void>((r) => liar.listen(peers[1]?.port, '127.0.0.1', () => r()));
  const dialer = node(1, peers, membersOf(peers), lines);
  t.teardown(async () => {
    await dialer.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => liar.close(() => r()));
  });
  await dialer.start();
  t.ok(await until(() => dialer.lastError.has(2)));
  t.notMatch(dialer.lastError.get(2), 'different ensemble');
  t.notMatch(JSON.stringify(lines), '10.9.9.9', 'nothing of its list is logged');
});

t.test('members whose jute.maxbuffer differs are refused on both sides, once each, naming the setting; a corrected member links', async (t) => {
  const peers = await addrs(2);
  const [log1, log2]: Line[][] = [[], []];
  const a = node(1, peers, membersOf(peers), log1, 'jute.maxbuffer=1048575');
  const b = node(2, peers, membersOf(peers), log2, 'jute.maxbuffer=4194304');
  t.teardown(() => Promise.all([a.stop(), b.stop()]));
  await Promise.all([a.start(), b.start()]);
  await sleep(1500); // several redials
  t.notOk(a.isConnected(2) || b.isConnected(1), 'no link on either side');
  const [p1, p2] = [`127.0.0.1:${peers[0]?.port}`, `127.0.0.1:${peers[1]?.port}`];
  t.same(
    log1.filter((l) => l.level >= 50).map((l) => [l.msg, l.peer, l.differences]),
    [[`peer 2 at ${p2} has jute.maxbuffer=4194304 where this member has jute.maxbuffer=1048575: every member needs the same`, 2, ['jute.maxbuffer=4194304 where this member has jute.maxbuffer=1048575']]],
    'the dialer: one error, however often it redials',
  );
  t.same(
    log2.filter((l) => l.level >= 50).map((l) => l.msg),
    [`peer 1 at ${p1} has jute.maxbuffer=1048575 where this member has jute.maxbuffer=4194304: every member needs the same`],
    'the acceptor: one error, from its side',
  );
  t.equal(a.lastError.get(2), log1.find((l) => l.level >= 50)?.msg, 'the reason /v1/admin/cluster shows');

  await restartCorrected(t, a, b, peers, 'jute.maxbuffer=1048575');
});

t.test('an older acceptor that sends no settings gets a link, with one warning; settings whose proof does not hold are not believed', async (t) => {
  const peers = await addrs(2);
  const lines: Line[] = [];
  const older = await fakeAcceptor(peers[1]?.port as number, SECRET);
  const a = node(1, peers, membersOf(peers), lines, 'jute.maxbuffer=1048575');
  t.teardown(() => a.stop());
  await a.start();
  t.ok(await until(() => a.isConnected(2)), 'linked');
  t.match(older.auths[0], { t: 'auth', settings: 'jute.maxbuffer=1048575' }, 'the dialer sent its settings, which an older peer ignores');
  t.equal(lines.filter((l) => l.level === 40 && /sent no shared settings \(an older zkgate\?\)/.test(l.msg)).length, 1, 'warned once');
  await a.stop();
  await older.stop();

  // Proves the secret, but the settings it sends are not the ones its proof covers.
  const forged = (d: Buffer, acc: Buffer) => ({ settings: 'jute.maxbuffer=7', settingsProof: settingsProof(SECRET, 'S', d, acc, 1, 2, 'jute.maxbuffer=1048575') });
  const { reason, lines: forgedLines } = await dialForger(t, peers, forged, 'jute.maxbuffer=1048575');
  t.equal(reason, `peer 2 at 127.0.0.1:${peers[1]?.port} sent shared settings that failed their integrity check`);
  t.notMatch(JSON.stringify(forgedLines), 'jute.maxbuffer=7', 'nothing of the unproven settings is logged');
});
