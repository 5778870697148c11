// The peer channel: one authenticated TCP connection per pair of peers (the lower id dials), msgpack frames,
// bounded send queues, reconnect with backoff. Raft tolerates loss, so a full or broken link drops messages.
// What a connection must prove before it becomes a link is peer-handshake.ts.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { PeerTls } from '../tls.js';
import type { Logger } from 'pino';
import { FrameDecoder, decodeValue, encodeValue, frame } from './frames.js';
import type { Member } from './membership.js';
import { MembershipCheck } from './membership-check.js';
import { type FrameSigner, TAG_BYTES } from './peer-auth.js';
import { acceptHandshake, dialHandshake, type HandshakeSide } from './peer-handshake.js';
import { CONNECTION_WARN_EVERY_MS, onceEvery } from '../once-every.js';

export interface PeerAddr {
  id: number;
  host: string;
  port: number;
}

export interface TransportOptions {
  myId: number;
  listenHost: string;
  listenPort: number;
  peers: PeerAddr[];
  /** Every server.N line, this member's included: a peer whose list differs is refused. */
  membership: readonly Member[];
  /** The settings every member must share (sharedSettingsText): a peer with others is refused. */
  sharedSettings?: string;
  secret: string;
  /**
   * Mutual TLS under the handshake: each side shows its certificate and accepts only one the CA signed; the secret
   * and the membership check still run inside.
   */
  tls?: PeerTls;
  /**
   * With tls, a peer's certificate must also name the host of its server.N line: the dialer checks the acceptor's,
   * the acceptor the dialer's once its hello says which member it is (peerTlsVerifyHostname).
   */
  verifyHostnames?: boolean;
  /** Largest frame accepted from a peer. */
  maxFrameBytes: number;
  /** Bytes queued for one peer before further messages to it are dropped. */
  maxQueueBytes: number;
  /** How long a lower-id peer (it dials us) may stay unconnected before we warn (default NOT_DIALED_WARN_MS). */
  notDialedWarnMs?: number;
  log: Logger;
}

const HANDSHAKE_TIMEOUT_MS = 5000;
const BACKOFF_MIN_MS = 50;
const BACKOFF_MAX_MS = 2000;
/** A few of the dialer's longest backoffs: a peer that has not dialed us by then is probably down or misconfigured. */
const NOT_DIALED_WARN_MS = 5000;
const MAX_TLS_REFUSALS_REMEMBERED = 256;
/** The peer port's bound on open connections: this many per peer, plus the spare. */
const PEER_CONNECTIONS_PER_PEER = 4;
const PEER_CONNECTIONS_SPARE = 32;
/**
 * Connections to the peer port not yet linked (TLS or peer handshake under way) that are held at once; past it the
 * oldest is closed. Nothing there is authenticated, so a process that opens and holds connections must not fill the
 * port: a member's own handshake takes milliseconds and comes newest.
 */
const MAX_PENDING_HANDSHAKES = PEER_CONNECTIONS_SPARE / 2;

class Link {
  signer?: FrameSigner;
  verifier?: FrameSigner;
  ready = false;
  queuedBytes = 0;
  corked = false;
  constructor(
    readonly socket: net.Socket,
    readonly peerId: number,
  ) {}
}

export interface PeerTransportEvents {
  message: [from: number, msg: unknown];
  up: [peer: number];
  down: [peer: number];
}

/** Feeds a socket's bytes through the frame decoder; an oversized or malformed frame ends the connection. */
function onFrames(s: net.Socket, decoder: FrameDecoder, handle: (frames: Buffer[]) => void): void {
  s.on('data', (data: Buffer) => {
    let frames: Buffer[];
    try {
      frames = decoder.push(data);
    } catch (e) {
      s.destroy(e as Error);
      return;
    }
    handle(frames);
  });
}

/** An error from the TLS layer rather than from TCP (those carry errno codes such as ECONNREFUSED). */
function isTlsError(e: NodeJS.ErrnoException): boolean {
  return !/^E[A-Z]+$/.test(e.code ?? '') || e.code === 'EPROTO';
}

export class PeerTransport extends EventEmitter<PeerTransportEvents> {
  private server?: net.Server;
  private readonly links = new Map<number, Link>();
  private readonly backoff = new Map<number, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Every open socket, handshaking ones too: stop() must close a connection that would otherwise come up after it. */
  private readonly sockets = new Set<net.Socket>();
  /** Connections to the peer port not yet linked, oldest first, by remote address and port (pendingHandshake). */
  private readonly pending = new Map<string, net.Socket>();
  /** Any process can open the peer port: warnings it can cause in a loop are written once per interval. */
  private readonly warnEvicted = onceEvery(CONNECTION_WARN_EVERY_MS);
  private readonly warnHandshakeFailed = onceEvery(CONNECTION_WARN_EVERY_MS);
  private stopped = false;
  /** Last reason a peer could not be reached, for /v1/admin/cluster and logs. */
  readonly lastError = new Map<number, string>();
  private readonly handshake: HandshakeSide;
  /** Last TLS failure logged per remote address (bounded), so a peer retrying every 2 s is one line, not hundreds. */
  private readonly tlsRefusals = new Map<string, string>();

  constructor(private readonly o: TransportOptions) {
    super();
    const report: HandshakeSide['report'] = (peer, msg, log) => this.report(peer, msg, log);
    this.handshake = { o, members: new MembershipCheck(o.membership, o.myId, o.secret, o.log, report, o.sharedSettings), report };
  }

  /** host:port of the peer listener, as zoo.cfg's server.N line for this member gives it. */
  get listenAddress(): string {
    return `${this.o.listenHost}:${this.o.listenPort}`;
  }

  async start(): Promise<void> {
    const t = this.o.tls;
    this.server = t
      ? tls.createServer({ ...t, requestCert: true, rejectUnauthorized: true, handshakeTimeout: HANDSHAKE_TIMEOUT_MS }, (s) => this.accept(s))
      : net.createServer((s) => this.accept(s));
    // Each peer keeps one link, and a reconnecting one briefly two; the rest of the room is for handshakes that
    // will fail. Bounded, so a flood of connections to the peer port cannot take every file descriptor.
    this.server.maxConnections = PEER_CONNECTIONS_PER_PEER * this.o.peers.length + PEER_CONNECTIONS_SPARE;
    // Tracked from the first byte, so stop() also closes a connection still in its TLS handshake.
    this.server.on('connection', (raw: net.Socket) => {
      if (t) this.track(raw);
      this.pendingHandshake(raw);
    });
    this.server.on('tlsClientError', (e: NodeJS.ErrnoException, s: tls.TLSSocket) => {
      // A dialer that rejects this member's certificate just closes: that shows here as a reset, from an address
      // Node no longer knows. Its own log names the certificate problem.
      const why = e.code ?? e.message;
      this.tlsRefused(s.remoteAddress, why, `failed the TLS handshake (${why}): is peer TLS configured alike on every member?`);
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.o.listenPort, this.o.listenHost, () => resolve());
    });
    this.server.on('error', (e) => this.o.log.error({ err: e }, 'peer listener error'));
    for (const p of this.o.peers) {
      if (p.id > this.o.myId) this.dial(p);
      else this.expectDial(p.id);
    }
  }

  /**
   * Only the lower id dials, so without this the side an operator looks at would say nothing about a peer that
   * never comes: warn (once) if `id` has not connected within notDialedWarnMs.
   */
  private expectDial(id: number): void {
    const p = this.o.peers.find((x) => x.id === id);
    if (!p || this.stopped) return;
    this.schedule(() => {
      // A peer that did try and failed has already been reported with its reason, which says more.
      if (this.isConnected(p.id) || this.lastError.has(p.id)) return;
      this.report(p.id, `peer ${p.id} at ${p.host}:${p.port} has not connected (it dials us)`, (msg) =>
        this.o.log.warn({ peer: p.id, address: `${p.host}:${p.port}` }, msg),
      );
    }, this.o.notDialedWarnMs ?? NOT_DIALED_WARN_MS);
  }

  /** Records why `peer` has no link; logs only when the reason changes, not at every retry. */
  private report(peer: number, msg: string, log: (msg: string) => void): void {
    if (this.lastError.get(peer) !== msg) log(msg);
    this.lastError.set(peer, msg);
  }

  /** New peer certificates (a rotation): connections accepted or dialed from now on use them; open links stay. */
  setTls(t: PeerTls): void {
    if (!this.o.tls) return;
    this.o.tls = t;
    if (this.server instanceof tls.Server) this.server.setSecureContext({ ...t });
  }

  isConnected(id: number): boolean {
    return this.links.get(id)?.ready === true;
  }

  /** Queues `msg` for `to`; false when the link is down or its queue is full (the message is dropped). */
  send(to: number, msg: unknown): boolean {
    const link = this.links.get(to);
    if (!link || !link.ready || !link.signer) return false;
    const payload = encodeValue(msg);
    if (link.queuedBytes + payload.length > this.o.maxQueueBytes) return false;
    const f = frame(payload, link.signer.tag(payload));
    link.queuedBytes += f.length;
    // Frames sent in one turn of the event loop (a Ready's messages, a burst of forwards and their answers)
    // leave in one writev instead of one write syscall each: same bytes, same order.
    if (!link.corked) {
      link.corked = true;
      link.socket.cork();
      process.nextTick(() => {
        link.corked = false;
        link.socket.uncork();
      });
    }
    link.socket.write(f, () => {
      link.queuedBytes -= f.length;
    });
    return true;
  }

  /**
   * Sends `msg` as the last frame on every link and closes each for writing once it has left, waiting up to `ms` for
   * them all; what the peers still send is not read by anyone after this.
   */
  async sendLast(msg: unknown, ms: number): Promise<void> {
    const links = [...this.links.values()].filter((l) => l.ready && this.send(l.peerId, msg));
    await Promise.all(
      links.map(
        (l) =>
          new Promise<void>((r) => {
            const t = setTimeout(r, ms);
            // end() uncorks first, so the frames of this turn (the answers before `msg`, then `msg`) go out in order.
            l.socket.end(() => (clearTimeout(t), r()));
          }),
      ),
    );
  }

  private schedule(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private dial(p: PeerAddr): void {
    if (this.stopped) return;
    const t = this.o.tls;
    // The peer's certificate must come from the CA; its names are checked against p.host only when asked to.
    const checkServerIdentity = this.o.verifyHostnames ? tls.checkServerIdentity : () => undefined;
    const s = this.track(t ? tls.connect({ host: p.host, port: p.port, ...t, checkServerIdentity }) : net.connect({ host: p.host, port: p.port }));
    s.setNoDelay(true);
    const decoder = new FrameDecoder(this.o.maxFrameBytes);
    const link = new Link(s, p.id);
    const timer = setTimeout(() => s.destroy(new Error('handshake timed out')), HANDSHAKE_TIMEOUT_MS);
    const handshake = dialHandshake(this.handshake, s, p, (signer, verifier) => {
      clearTimeout(timer);
      link.signer = signer;
      link.verifier = verifier;
      this.up(link);
    });
    s.on(t ? 'secureConnect' : 'connect', () => handshake.hello());
    onFrames(s, decoder, (frames) => {
      for (const f of frames) {
        if (link.ready) {
          this.deliver(link, f);
          continue;
        }
        if (!this.safely(s, () => handshake.take(f))) return;
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      // A TLS failure names itself (ERR_SSL_*, a certificate code): an operator must tell it from a dead peer.
      this.report(p.id, `peer ${p.id} unreachable at ${p.host}:${p.port}: ${e.code ?? e.message}${t && isTlsError(e) ? ` (TLS: ${e.message})` : ''}`, () =>
        this.o.log.warn({ peer: p.id, address: `${p.host}:${p.port}`, err: e.code ?? e.message }, 'peer unreachable'),
      );
    });
    s.on('close', () => {
      clearTimeout(timer);
      this.down(link);
      const b = Math.min(BACKOFF_MAX_MS, (this.backoff.get(p.id) ?? BACKOFF_MIN_MS / 2) * 2);
      this.backoff.set(p.id, b);
      this.schedule(() => this.dial(p), b);
    });
  }

  /** Holds `raw` among the connections not yet linked, closing the oldest past MAX_PENDING_HANDSHAKES. */
  private pendingHandshake(raw: net.Socket): void {
    const key = `${raw.remoteAddress}:${raw.remotePort}`;
    this.pending.set(key, raw);
    raw.once('close', () => {
      if (this.pending.get(key) === raw) this.pending.delete(key);
    });
    if (this.pending.size <= MAX_PENDING_HANDSHAKES) return;
    const [oldestKey, oldest] = this.pending.entries().next().value as [string, net.Socket];
    this.pending.delete(oldestKey);
    oldest.destroy();
    this.warnEvicted(() =>
      this.o.log.warn({ remote: oldest.remoteAddress, pending: MAX_PENDING_HANDSHAKES }, 'peer port: too many connections without a completed handshake; closing the oldest'),
    );
  }

  /** The connection `s` (the TLS one on a TLS port) is linked: no longer a pending handshake. */
  private handshakeDone(s: net.Socket): void {
    this.pending.delete(`${s.remoteAddress}:${s.remotePort}`);
  }

  /** Before a hello there is no peer id to report under: the remote address stands in, logged once per reason. */
  private tlsRefused(from: string | undefined, why: string, what: string): void {
    const key = from ?? '';
    if (this.tlsRefusals.get(key) === why) return;
    if (this.tlsRefusals.size >= MAX_TLS_REFUSALS_REMEMBERED) this.tlsRefusals.clear();
    this.tlsRefusals.set(key, why);
    this.o.log.error({ remote: from, err: why }, `${from === undefined ? 'a peer connection' : `peer connection from ${from}`} ${what}`);
  }

  private accept(s: net.Socket): void {
    this.track(s);
    if (!this.o.tls) {
      // A TLS record (handshake type 22, version 3.x) where a hello frame should be: the dialer has peer TLS and
      // this member has not. Without this line it would see only resets, and this side nothing at all.
      s.once('data', (d: Buffer) => {
        if (d[0] !== 0x16 || d[1] !== 0x03) return;
        this.tlsRefused(s.remoteAddress, 'speaks TLS', 'speaks TLS, and this member has no peer TLS (peerTlsCertFile, peerTlsKeyFile, peerTlsCaFile)');
        s.destroy();
      });
    }
    s.setNoDelay(true);
    const decoder = new FrameDecoder(this.o.maxFrameBytes);
    let link: Link | undefined;
    const timer = setTimeout(() => s.destroy(), HANDSHAKE_TIMEOUT_MS);
    const handshake = acceptHandshake(this.handshake, s, (peer, signer, verifier) => {
      clearTimeout(timer);
      this.handshakeDone(s);
      link = new Link(s, peer);
      link.signer = signer;
      link.verifier = verifier;
      const prev = this.links.get(peer);
      if (prev && prev.socket !== s) prev.socket.destroy();
      this.up(link);
    });
    onFrames(s, decoder, (frames) => {
      for (const f of frames) {
        if (link?.ready) {
          this.deliver(link, f);
          continue;
        }
        if (!this.safely(s, () => handshake.take(f))) return;
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      if (link) this.down(link);
    });
  }

  /**
   * Runs a handshake step: a fault in it (a frame of a shape nobody thought of) ends that connection, never the member.
   * Nothing on the peer port is authenticated before the handshake ends.
   */
  private safely(s: net.Socket, step: () => boolean): boolean {
    try {
      return step();
    } catch (e) {
      s.destroy();
      this.warnHandshakeFailed((skipped) =>
        this.o.log.warn({ remote: s.remoteAddress, err: (e as Error).message, failedSinceLastWarning: skipped + 1 }, 'peer connection closed: its handshake failed (at most one such line per 10 s)'),
      );
      return false;
    }
  }

  private track(s: net.Socket): net.Socket {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    return s;
  }

  private up(link: Link): void {
    link.ready = true;
    this.links.set(link.peerId, link);
    this.backoff.delete(link.peerId);
    this.lastError.delete(link.peerId);
    this.o.log.info({ peer: link.peerId }, 'peer connected');
    this.emit('up', link.peerId);
  }

  private down(link: Link): void {
    if (this.links.get(link.peerId) !== link) return;
    this.links.delete(link.peerId);
    if (link.ready) {
      this.o.log.info({ peer: link.peerId }, 'peer disconnected');
      this.emit('down', link.peerId);
      if (link.peerId < this.o.myId) this.expectDial(link.peerId);
    }
  }

  private deliver(link: Link, f: Buffer): void {
    if (f.length < TAG_BYTES || !link.verifier) return void link.socket.destroy();
    const payload = f.subarray(0, f.length - TAG_BYTES);
    if (!link.verifier.verify(payload, f.subarray(f.length - TAG_BYTES))) {
      this.o.log.error({ peer: link.peerId }, 'peer frame failed its integrity check; dropping the connection');
      return void link.socket.destroy();
    }
    let msg: unknown;
    try {
      msg = decodeValue(payload);
    } catch {
      return void link.socket.destroy();
    }
    this.emit('message', link.peerId, msg);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
