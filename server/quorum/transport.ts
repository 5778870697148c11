// The peer channel: one authenticated TCP connection per pair of peers (the lower id dials), msgpack frames,
// bounded send queues, reconnect with backoff. Raft tolerates loss, so a full or broken link drops messages.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { PeerTls } from '../tls.js';
import type { Logger } from 'pino';
import { FrameDecoder, decodeValue, encodeValue, frame } from './frames.js';
import type { Member } from './membership.js';
import { MembershipCheck, type MembershipClaim } from './membership-check.js';
import { FrameSigner, TAG_BYTES, nonce, proof, sameProof, sessionKey } from './peer-auth.js';

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

/** The reason a peer that fails the secret is given, and logs: the words an operator searches for. */
const SECRET_MISMATCH = 'ensembleSecret mismatch';
/** The reasons a dialer refuses an accepting peer with (see `denied` frames below), as they may be logged. */
const KNOWN_DENIALS = [new RegExp(`^${SECRET_MISMATCH}$`), /^expected peer \d{1,3}, reached peer \d{1,3}$/];
/** What an accepting member refuses a dialer with when their server lists differ (each side logs what differs). */
const MEMBERSHIP_MISMATCH = 'ensemble membership mismatch';
/** What an accepting member refuses a dialer with when a shared setting differs (each side logs which). */
const SETTINGS_MISMATCH = 'ensemble settings mismatch';

type Handshake =
  | { t: 'hello'; id: number; nonce: Uint8Array }
  | { t: 'challenge'; id: number; nonce: Uint8Array; proof: Uint8Array }
  | ({ t: 'auth'; proof: Uint8Array } & MembershipClaim)
  | ({ t: 'ok' } & MembershipClaim)
  | ({ t: 'denied'; reason: string } & MembershipClaim);


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
  private stopped = false;
  /** Last reason a peer could not be reached, for /v1/admin/cluster and logs. */
  readonly lastError = new Map<number, string>();
  private readonly members: MembershipCheck;
  /** Last TLS failure logged per remote address (bounded), so a peer retrying every 2 s is one line, not hundreds. */
  private readonly tlsRefusals = new Map<string, string>();

  constructor(private readonly o: TransportOptions) {
    super();
    this.members = new MembershipCheck(o.membership, o.myId, o.secret, o.log, (peer, msg, log) => this.report(peer, msg, log), o.sharedSettings);
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
    if (t) this.server.on('connection', (raw: net.Socket) => this.track(raw));
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
    const myNonce = nonce();
    let theirNonce: Buffer | undefined;
    const decoder = new FrameDecoder(this.o.maxFrameBytes);
    const link = new Link(s, p.id);
    const timer = setTimeout(() => s.destroy(new Error('handshake timed out')), HANDSHAKE_TIMEOUT_MS);
    s.on(t ? 'secureConnect' : 'connect', () => s.write(frame(encodeValue({ t: 'hello', id: this.o.myId, nonce: myNonce } satisfies Handshake))));
    onFrames(s, decoder, (frames) => {
      for (const f of frames) {
        if (link.ready) {
          this.deliver(link, f);
          continue;
        }
        // Anything can arrive before the handshake completes (a lost `ok` leaves the peer sending signed
        // frames): a frame that is not a handshake message ends this connection, never the process.
        let h: Handshake;
        try {
          h = decodeValue(f) as Handshake;
        } catch {
          s.destroy(new Error('malformed handshake frame'));
          return;
        }
        if (h.t === 'challenge') {
          theirNonce = Buffer.from(h.nonce);
          if (h.id !== p.id || !sameProof(proof(this.o.secret, 'S', myNonce, theirNonce, this.o.myId, p.id), h.proof)) {
            this.report(p.id, `peer ${p.id} at ${p.host}:${p.port} failed authentication (ensembleSecret mismatch?)`, () =>
              this.o.log.error({ peer: p.id, address: `${p.host}:${p.port}` }, 'peer failed to prove the ensemble secret (ensembleSecret mismatch?)'),
            );
            // Told why, the peer can log it too; it would otherwise see only a connection that closed.
            s.end(frame(encodeValue({ t: 'denied', reason: h.id !== p.id ? `expected peer ${p.id}, reached peer ${h.id}` : SECRET_MISMATCH } satisfies Handshake)));
            return;
          }
          const auth: Handshake = { t: 'auth', proof: proof(this.o.secret, 'C', myNonce, theirNonce, this.o.myId, p.id), ...this.members.claim('C', myNonce, theirNonce, p.id) };
          s.write(frame(encodeValue(auth)));
        } else if (h.t === 'ok' && theirNonce) {
          // The acceptor has already compared; comparing here too lets this side name what differs, and refuse
          // an acceptor whose idea of equal is not this build's.
          if (!this.members.admit(p, this.members.read(h, 'S', myNonce, theirNonce, p.id))) return void s.destroy();
          if (!this.members.admitSettings(p, this.members.readSettings(h, 'S', myNonce, theirNonce, p.id))) return void s.destroy();
          clearTimeout(timer);
          const key = sessionKey(this.o.secret, myNonce, theirNonce);
          link.signer = new FrameSigner(key, 'd');
          link.verifier = new FrameSigner(key, 'a');
          this.up(link);
        } else if (h.t === 'denied') {
          // A refusal for membership carries the acceptor's list, proved like ours: this side then says what differs.
          const claim = theirNonce && h.members !== undefined ? this.members.read(h, 'S', myNonce, theirNonce, p.id) : 'absent';
          if (Array.isArray(claim) && !this.members.admit(p, claim)) return void s.destroy();
          const settings = theirNonce && h.settings !== undefined ? this.members.readSettings(h, 'S', myNonce, theirNonce, p.id) : 'absent';
          if (settings instanceof Map && !this.members.admitSettings(p, settings)) return void s.destroy();
          this.report(p.id, `peer ${p.id} at ${p.host}:${p.port} refused us: ${h.reason}`, () =>
            this.o.log.error({ peer: p.id, address: `${p.host}:${p.port}`, reason: h.reason }, 'peer refused the connection'),
          );
          s.destroy();
        } else {
          s.destroy(new Error('unexpected handshake frame'));
        }
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
    const myNonce = nonce();
    let theirNonce: Buffer | undefined;
    let peer: PeerAddr | undefined;
    let link: Link | undefined;
    let refused = false;
    const timer = setTimeout(() => s.destroy(), HANDSHAKE_TIMEOUT_MS);
    // Closed once the refusal is written: a membership list may not leave in one write, and destroy() would cut it.
    const deny = (reason: string, claim: MembershipClaim = {}) => {
      refused = true;
      s.end(frame(encodeValue({ t: 'denied', reason, ...claim } satisfies Handshake)), () => s.destroy());
    };
    onFrames(s, decoder, (frames) => {
      for (const f of frames) {
        if (refused) return;
        if (link?.ready) {
          this.deliver(link, f);
          continue;
        }
        let h: Handshake;
        try {
          h = decodeValue(f) as Handshake;
        } catch {
          s.destroy();
          return;
        }
        if (h.t === 'hello' && !peer) {
          peer = this.o.peers.find((x) => x.id === h.id);
          if (!peer || h.id >= this.o.myId) return deny(`unknown or unexpected peer id ${h.id}`);
          if (this.o.tls && this.o.verifyHostnames && !this.certNames(s as tls.TLSSocket, peer)) return deny(`certificate does not name ${peer.host}`);
          theirNonce = Buffer.from(h.nonce);
          s.write(frame(encodeValue({ t: 'challenge', id: this.o.myId, nonce: myNonce, proof: proof(this.o.secret, 'S', theirNonce, myNonce, h.id, this.o.myId) } satisfies Handshake)));
        } else if (h.t === 'auth' && peer && theirNonce) {
          if (!sameProof(proof(this.o.secret, 'C', theirNonce, myNonce, peer.id, this.o.myId), h.proof)) {
            const { id, host, port } = peer;
            this.report(id, `peer ${id} at ${host}:${port} failed authentication (ensembleSecret mismatch?)`, () =>
              this.o.log.error({ peer: id, address: `${host}:${port}`, remote: s.remoteAddress }, 'peer failed to prove the ensemble secret (ensembleSecret mismatch?)'),
            );
            return deny(SECRET_MISMATCH);
          }
          const claimed = this.members.read(h, 'C', theirNonce, myNonce, peer.id);
          const mine = this.members.claim('S', theirNonce, myNonce, peer.id);
          if (!this.members.admit(peer, claimed)) return claimed === 'invalid' ? void s.destroy() : deny(MEMBERSHIP_MISMATCH, mine);
          const settings = this.members.readSettings(h, 'C', theirNonce, myNonce, peer.id);
          if (!this.members.admitSettings(peer, settings)) return settings === 'invalid' ? void s.destroy() : deny(SETTINGS_MISMATCH, mine);
          clearTimeout(timer);
          const key = sessionKey(this.o.secret, theirNonce, myNonce);
          link = new Link(s, peer.id);
          link.signer = new FrameSigner(key, 'a');
          link.verifier = new FrameSigner(key, 'd');
          s.write(frame(encodeValue({ t: 'ok', ...mine } satisfies Handshake)));
          const prev = this.links.get(peer.id);
          if (prev && prev.socket !== s) prev.socket.destroy();
          this.up(link);
        } else if (h.t === 'denied' && peer) {
          // The dialer checks our proof before sending its own, so a secret mismatch shows here only as its refusal.
          // Nothing here is authenticated yet: any process can claim an id and a reason, so only the reasons peers
          // send are told apart, and anything else is one line, however it varies.
          const { id, host, port } = peer;
          const reason = KNOWN_DENIALS.some((r) => r.test(String(h.reason))) ? String(h.reason) : 'an unrecognised reason';
          this.report(id, `peer ${id} at ${host}:${port} refused us: ${reason}`, (msg) =>
            this.o.log.error({ peer: id, address: `${host}:${port}`, remote: s.remoteAddress, reason }, msg),
          );
          s.destroy();
          return;
        } else {
          s.destroy();
          return;
        }
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      if (link) this.down(link);
    });
  }

  /** Whether the dialer's certificate names `peer`'s host (as a client checks a server's); reported when not. */
  private certNames(s: tls.TLSSocket, peer: PeerAddr): boolean {
    const err = tls.checkServerIdentity(peer.host, s.getPeerCertificate());
    if (err === undefined) return true;
    const { id, host, port } = peer;
    this.report(id, `peer ${id} at ${host}:${port} was refused: its certificate does not name ${host} (${err.message})`, (msg) =>
      this.o.log.error({ peer: id, address: `${host}:${port}`, remote: s.remoteAddress, err: err.message }, msg),
    );
    return false;
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
