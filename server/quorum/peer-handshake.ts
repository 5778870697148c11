// The peer handshake, from a connection's first frame until it is a link: hello, challenge, auth, then ok or denied.
// Both sides prove the ensemble secret and compare membership and shared settings; a refusal says why, to both logs.
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { PeerTls } from '../tls.js';
import { decodeValue, encodeValue, frame } from './frames.js';
import type { MembershipCheck, MembershipClaim } from './membership-check.js';
import { FrameSigner, nonce, proof, sameProof, sessionKey } from './peer-auth.js';

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

/** A peer as the transport's options list it. */
interface Peer {
  id: number;
  host: string;
  port: number;
}

/** What every handshake of one transport shares. */
export interface HandshakeSide {
  /** The transport's options, the object itself: what a certificate rotation (setTls) changes shows here too. */
  o: { myId: number; secret: string; peers: readonly Peer[]; tls?: PeerTls; verifyHostnames?: boolean; log: Logger };
  members: MembershipCheck;
  /** Records why `peer` has no link; logs only when the reason changes, not at every retry. */
  report: (peer: number, msg: string, log: (msg: string) => void) => void;
}

/** One connection's handshake, given each frame that arrives before its link is up. */
export interface Handshaking {
  /** False when the connection is done with and the frames that came with this one are left unread. */
  take(f: Buffer): boolean;
}

const NONCE_BYTES = 16;
const MAX_REASON_CHARS = 1024;

const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 254;
const isBytes = (v: unknown, n?: number): v is Uint8Array => v instanceof Uint8Array && (n === undefined || v.byteLength === n);
const optional = (v: unknown, ok: (x: unknown) => boolean) => v === undefined || ok(v);

/**
 * A handshake frame, its every field checked, or undefined. Before the handshake ends nothing is authenticated: any
 * process that reaches the peer port can send anything (`null`, a number where a nonce goes), and reading a field
 * of the wrong shape must end that connection, never the member.
 */
function readHandshake(f: Buffer): Handshake | undefined {
  let v: unknown;
  try {
    v = decodeValue(f);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const h = v as Record<string, unknown>;
  const claimOk =
    optional(h.members, (x) => typeof x === 'string') &&
    optional(h.membersProof, isBytes) &&
    optional(h.settings, (x) => typeof x === 'string') &&
    optional(h.settingsProof, isBytes);
  switch (h.t) {
    case 'hello':
      return isId(h.id) && isBytes(h.nonce, NONCE_BYTES) ? (h as Handshake) : undefined;
    case 'challenge':
      return isId(h.id) && isBytes(h.nonce, NONCE_BYTES) && isBytes(h.proof) ? (h as Handshake) : undefined;
    case 'auth':
      return isBytes(h.proof) && claimOk ? (h as Handshake) : undefined;
    case 'ok':
      return claimOk ? (h as Handshake) : undefined;
    case 'denied':
      return typeof h.reason === 'string' && h.reason.length <= MAX_REASON_CHARS && claimOk ? (h as Handshake) : undefined;
    default:
      return undefined;
  }
}

/** Ends the connection at once; false, as the frames that came with the one that ended it are not read. */
function cut(s: net.Socket): false {
  s.destroy();
  return false;
}

/**
 * The dialing side to `p`: hello once connected, the acceptor's proof checked before this side proves anything, its
 * ok or refusal read against this member's lists. `linked` gets the link's signers once both sides agree.
 */
export function dialHandshake(side: HandshakeSide, s: net.Socket, p: Peer, linked: (signer: FrameSigner, verifier: FrameSigner) => void): Handshaking & { hello(): void } {
  const { o, members } = side;
  const myNonce = nonce();
  let theirNonce: Buffer | undefined;
  return {
    hello: () => void s.write(frame(encodeValue({ t: 'hello', id: o.myId, nonce: myNonce } satisfies Handshake))),
    take: (f) => {
      // Anything can arrive before the handshake completes (a lost `ok` leaves the peer sending signed
      // frames): a frame that is not a handshake message ends this connection, never the process.
      const h = readHandshake(f);
      if (h === undefined) {
        s.destroy(new Error('malformed handshake frame'));
        return false;
      }
      if (h.t === 'challenge') {
        theirNonce = Buffer.from(h.nonce);
        if (h.id !== p.id || !sameProof(proof(o.secret, 'S', myNonce, theirNonce, o.myId, p.id), h.proof)) {
          side.report(p.id, `peer ${p.id} at ${p.host}:${p.port} failed authentication (ensembleSecret mismatch?)`, () =>
            o.log.error({ peer: p.id, address: `${p.host}:${p.port}` }, 'peer failed to prove the ensemble secret (ensembleSecret mismatch?)'),
          );
          // Told why, the peer can log it too; it would otherwise see only a connection that closed.
          s.end(frame(encodeValue({ t: 'denied', reason: h.id !== p.id ? `expected peer ${p.id}, reached peer ${h.id}` : SECRET_MISMATCH } satisfies Handshake)));
          return false;
        }
        const auth: Handshake = { t: 'auth', proof: proof(o.secret, 'C', myNonce, theirNonce, o.myId, p.id), ...members.claim('C', myNonce, theirNonce, p.id) };
        s.write(frame(encodeValue(auth)));
      } else if (h.t === 'ok' && theirNonce) {
        // The acceptor has already compared; comparing here too lets this side name what differs, and refuse
        // an acceptor whose idea of equal is not this build's.
        if (!members.admit(p, members.read(h, 'S', myNonce, theirNonce, p.id))) return cut(s);
        if (!members.admitSettings(p, members.readSettings(h, 'S', myNonce, theirNonce, p.id))) return cut(s);
        const key = sessionKey(o.secret, myNonce, theirNonce);
        linked(new FrameSigner(key, 'd'), new FrameSigner(key, 'a'));
      } else if (h.t === 'denied') {
        // A refusal for membership carries the acceptor's list, proved like ours: this side then says what differs.
        const claim = theirNonce && h.members !== undefined ? members.read(h, 'S', myNonce, theirNonce, p.id) : 'absent';
        if (Array.isArray(claim) && !members.admit(p, claim)) return cut(s);
        const settings = theirNonce && h.settings !== undefined ? members.readSettings(h, 'S', myNonce, theirNonce, p.id) : 'absent';
        if (settings instanceof Map && !members.admitSettings(p, settings)) return cut(s);
        side.report(p.id, `peer ${p.id} at ${p.host}:${p.port} refused us: ${h.reason}`, () =>
          o.log.error({ peer: p.id, address: `${p.host}:${p.port}`, reason: h.reason }, 'peer refused the connection'),
        );
        // What came behind the refusal in the same read is not looked at: an `ok` there must not link a connection
        // already ended.
        return cut(s);
      } else {
        s.destroy(new Error('unexpected handshake frame'));
        return false;
      }
      return true;
    },
  };
}

/**
 * The accepting side: a hello from a lower-id member answered with this side's proof, the dialer's proof and lists
 * checked, then ok or a refusal that says why. `linked` gets the peer and the link's signers once both sides agree.
 */
export function acceptHandshake(side: HandshakeSide, s: net.Socket, linked: (peer: number, signer: FrameSigner, verifier: FrameSigner) => void): Handshaking {
  const { o, members } = side;
  const myNonce = nonce();
  let theirNonce: Buffer | undefined;
  let peer: Peer | undefined;
  let refused = false;
  // Closed once the refusal is written: a membership list may not leave in one write, and destroy() would cut it.
  const deny = (reason: string, claim: MembershipClaim = {}): false => {
    refused = true;
    s.end(frame(encodeValue({ t: 'denied', reason, ...claim } satisfies Handshake)), () => s.destroy());
    return false;
  };
  return {
    take: (f) => {
      if (refused) return false;
      const h = readHandshake(f);
      if (h === undefined) return cut(s);
      if (h.t === 'hello' && !peer) {
        peer = o.peers.find((x) => x.id === h.id);
        if (!peer || h.id >= o.myId) return deny(`unknown or unexpected peer id ${h.id}`);
        if (o.tls && o.verifyHostnames && !certNames(side, s as tls.TLSSocket, peer)) return deny(`certificate does not name ${peer.host}`);
        theirNonce = Buffer.from(h.nonce);
        s.write(frame(encodeValue({ t: 'challenge', id: o.myId, nonce: myNonce, proof: proof(o.secret, 'S', theirNonce, myNonce, h.id, o.myId) } satisfies Handshake)));
      } else if (h.t === 'auth' && peer && theirNonce) {
        if (!sameProof(proof(o.secret, 'C', theirNonce, myNonce, peer.id, o.myId), h.proof)) {
          const { id, host, port } = peer;
          side.report(id, `peer ${id} at ${host}:${port} failed authentication (ensembleSecret mismatch?)`, () =>
            o.log.error({ peer: id, address: `${host}:${port}`, remote: s.remoteAddress }, 'peer failed to prove the ensemble secret (ensembleSecret mismatch?)'),
          );
          return deny(SECRET_MISMATCH);
        }
        const claimed = members.read(h, 'C', theirNonce, myNonce, peer.id);
        const mine = members.claim('S', theirNonce, myNonce, peer.id);
        if (!members.admit(peer, claimed)) return claimed === 'invalid' ? cut(s) : deny(MEMBERSHIP_MISMATCH, mine);
        const settings = members.readSettings(h, 'C', theirNonce, myNonce, peer.id);
        if (!members.admitSettings(peer, settings)) return settings === 'invalid' ? cut(s) : deny(SETTINGS_MISMATCH, mine);
        const key = sessionKey(o.secret, theirNonce, myNonce);
        s.write(frame(encodeValue({ t: 'ok', ...mine } satisfies Handshake)));
        linked(peer.id, new FrameSigner(key, 'a'), new FrameSigner(key, 'd'));
      } else if (h.t === 'denied' && peer) {
        // The dialer checks our proof before sending its own, so a secret mismatch shows here only as its refusal.
        // Nothing here is authenticated yet: any process can claim an id and a reason, so only the reasons peers
        // send are told apart, and anything else is one line, however it varies.
        const { id, host, port } = peer;
        const reason = KNOWN_DENIALS.some((r) => r.test(String(h.reason))) ? String(h.reason) : 'an unrecognised reason';
        side.report(id, `peer ${id} at ${host}:${port} refused us: ${reason}`, (msg) =>
          o.log.error({ peer: id, address: `${host}:${port}`, remote: s.remoteAddress, reason }, msg),
        );
        return cut(s);
      } else {
        return cut(s);
      }
      return true;
    },
  };
}

/** Whether the dialer's certificate names `peer`'s host (as a client checks a server's); reported when not. */
function certNames(side: HandshakeSide, s: tls.TLSSocket, peer: Peer): boolean {
  const err = tls.checkServerIdentity(peer.host, s.getPeerCertificate());
  if (err === undefined) return true;
  const { id, host, port } = peer;
  side.report(id, `peer ${id} at ${host}:${port} was refused: its certificate does not name ${host} (${err.message})`, (msg) =>
    side.o.log.error({ peer: id, address: `${host}:${port}`, remote: s.remoteAddress, err: err.message }, msg),
  );
  return false;
}
