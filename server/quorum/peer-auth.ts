// The peer channel's proof of membership: a challenge-response on the ensemble secret, then a per-frame
// HMAC with sequence numbers, so a process without the secret can neither join nor inject or replay frames.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const TAG_BYTES = 16;

export function nonce(): Buffer {
  return randomBytes(16);
}

function mac(secret: string | Buffer, ...parts: (string | Uint8Array)[]): Buffer {
  const h = createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** What the accepting side proves (S) and what the dialing side proves (C), bound to both nonces and ids. */
export function proof(secret: string, role: 'S' | 'C', dialNonce: Buffer, acceptNonce: Buffer, dialId: number, acceptId: number): Buffer {
  return mac(secret, role, dialNonce, acceptNonce, `${dialId}>${acceptId}`);
}

/**
 * Binds a member's server list to this handshake: only a side that knows the secret can write it, and only for
 * these two nonces, so no process can claim a membership for a member or replay one from another connection. Each
 * side computes it only after the other has proved the secret on this connection, so it is no oracle for a
 * process without it; the leading 'M' keeps it apart from the proofs and the session key.
 */
export function membershipProof(secret: string, role: 'S' | 'C', dialNonce: Buffer, acceptNonce: Buffer, dialId: number, acceptId: number, members: string): Buffer {
  return mac(secret, 'M', role, dialNonce, acceptNonce, `${dialId}>${acceptId}`, members);
}

/** As membershipProof, for the settings every member must share (the leading 'P' keeps the two apart). */
export function settingsProof(secret: string, role: 'S' | 'C', dialNonce: Buffer, acceptNonce: Buffer, dialId: number, acceptId: number, settings: string): Buffer {
  return mac(secret, 'P', role, dialNonce, acceptNonce, `${dialId}>${acceptId}`, settings);
}

export function sameProof(a: Buffer, b: Uint8Array): boolean {
  const bb = Buffer.from(b);
  return a.length === bb.length && timingSafeEqual(a, bb);
}

export function sessionKey(secret: string, dialNonce: Buffer, acceptNonce: Buffer): Buffer {
  return mac(secret, 'K', dialNonce, acceptNonce);
}

/** Tags frames in one direction: HMAC(key, direction ‖ seq ‖ payload), truncated. */
export class FrameSigner {
  private seq = 0n;
  constructor(
    private readonly key: Buffer,
    private readonly direction: string,
  ) {}

  tag(payload: Uint8Array): Buffer {
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(this.seq++);
    return mac(this.key, this.direction, seq, payload).subarray(0, TAG_BYTES);
  }

  verify(payload: Uint8Array, tag: Uint8Array): boolean {
    return sameProof(this.tag(payload), tag);
  }
}
