// Peers for transport tests: the server lines a test's peers stand for, and a hand-driven peer that speaks the
// handshake as a build from before the membership check does.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { FrameDecoder, decodeValue, encodeValue, frame } from '../../server/quorum/frames.js';
import type { Member } from '../../server/quorum/membership.js';
import { proof } from '../../server/quorum/peer-auth.js';
import type { PeerAddr } from '../../server/quorum/transport.js';

/** Each peer on its peer port (the electionPort is unused), all voting. */
export function membersOf(peers: readonly PeerAddr[]): Member[] {
  return peers.map((p) => ({ id: p.id, host: p.host, peerPort: p.port, electionPort: p.port, role: 'participant' }));
}

/** A socket speaking handshake frames: `next()` is the next decoded frame the other side sent. */
export function handshakeSocket(s: net.Socket) {
  const decoder = new FrameDecoder(1 << 20);
  const queue: Record<string, unknown>[] = [];
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  s.on('error', () => {});
  s.on('data', (d: Buffer) => {
    for (const f of decoder.push(d)) {
      const v = decodeValue(f) as Record<string, unknown>;
      const w = waiting.shift();
      if (w) w(v);
      else queue.push(v);
    }
  });
  return {
    send: (v: unknown) => s.write(frame(encodeValue(v))),
    next: () => new Promise<Record<string, unknown>>((r) => (queue.length > 0 ? r(queue.shift() as Record<string, unknown>) : waiting.push(r))),
  };
}

export interface FakeAcceptorOptions {
  /** Fields added to `ok` (a forged membership claim). */
  okExtra?: (dialNonce: Buffer, acceptNonce: Buffer) => object;
  /** Awaited between the dialer's `auth` and the `ok`. */
  beforeOk?: () => Promise<void>;
  /** Handshake frames sent ahead of the `ok`, in the same write. */
  aheadOfOk?: object[];
}

/** Peer 2 for a dialing peer 1: proves `secret`, records each `auth`, answers a bare `ok` (no membership). */
export async function fakeAcceptor(port: number, secret: string, o: FakeAcceptorOptions = {}) {
  const auths: Record<string, unknown>[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer(async (s) => {
    sockets.add(s);
    const h = handshakeSocket(s);
    const hello = await h.next();
    const theirs = Buffer.from(hello.nonce as Uint8Array);
    const mine = randomBytes(16);
    h.send({ t: 'challenge', id: 2, nonce: mine, proof: proof(secret, 'S', theirs, mine, 1, 2) });
    auths.push(await h.next());
    await o.beforeOk?.();
    const ok = { t: 'ok', ...o.okExtra?.(theirs, mine) };
    s.write(Buffer.concat([...(o.aheadOfOk ?? []), ok].map((v) => frame(encodeValue(v)))));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    auths,
    sockets,
    stop: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
