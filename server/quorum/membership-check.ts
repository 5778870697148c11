// The peer handshake's membership check (membership.ts says what is compared): this member's server list proved
// for one connection, a peer's list read back against its proof, and whether that peer may link.
import type { Logger } from 'pino';
import { describeDifferences, membershipDifferences, membershipText, parseMembership, type Member } from './membership.js';
import { membershipProof, sameProof } from './peer-auth.js';

/**
 * Each side's server list and its membershipProof, sent once the other side has proved the secret: the dialer's in
 * `auth`, the acceptor's in `ok` or `denied`. Absent from a build that predates the check; an older peer ignores it.
 */
export interface MembershipClaim {
  members?: string;
  membersProof?: Uint8Array;
}

/** A peer's membership as read from its claim: its servers, none sent (an older build), or a claim that fails its proof. */
export type ClaimedMembership = Member[] | 'absent' | 'invalid';

/** Records why a peer has no link, logging only when the reason changes (the transport's report). */
type Report = (peer: number, msg: string, log: (msg: string) => void) => void;

export class MembershipCheck {
  private readonly text: string;
  /** Peers linked without a membership check (older builds), each warned about once. */
  private readonly unchecked = new Set<number>();

  constructor(
    private readonly members: readonly Member[],
    private readonly myId: number,
    private readonly secret: string,
    private readonly log: Logger,
    private readonly report: Report,
  ) {
    this.text = membershipText(members);
  }

  /** This member's list for the peer `other`, proved for this connection ('C' when this side dialed, 'S' when it accepted). */
  claim(role: 'S' | 'C', dialNonce: Buffer, acceptNonce: Buffer, other: number): Required<MembershipClaim> {
    const [dialId, acceptId] = role === 'C' ? [this.myId, other] : [other, this.myId];
    return { members: this.text, membersProof: membershipProof(this.secret, role, dialNonce, acceptNonce, dialId, acceptId, this.text) };
  }

  /** The list `other` sent in `c`, if the proof it wrote as `role` holds for this connection. */
  read(c: MembershipClaim, role: 'S' | 'C', dialNonce: Buffer, acceptNonce: Buffer, other: number): ClaimedMembership {
    if (c.members === undefined) return 'absent';
    if (typeof c.members !== 'string' || !(c.membersProof instanceof Uint8Array)) return 'invalid';
    const [dialId, acceptId] = role === 'C' ? [other, this.myId] : [this.myId, other];
    if (!sameProof(membershipProof(this.secret, role, dialNonce, acceptNonce, dialId, acceptId, c.members), c.membersProof)) return 'invalid';
    try {
      return parseMembership(c.members);
    } catch {
      return 'invalid';
    }
  }

  /**
   * Whether `p` may link, given the membership it claimed: yes when its list is ours, or when it sent none (a build
   * from before the check, during a rolling upgrade: warned once). Says why not, once per reason.
   */
  admit(p: { id: number; host: string; port: number }, claimed: ClaimedMembership): boolean {
    const address = `${p.host}:${p.port}`;
    if (claimed === 'absent') {
      if (!this.unchecked.has(p.id)) {
        this.unchecked.add(p.id);
        this.log.warn({ peer: p.id, address }, `peer ${p.id} at ${address} sent no ensemble membership (an older zkgate?): linked without checking that it lists the same servers`);
      }
      return true;
    }
    if (claimed === 'invalid') {
      this.report(p.id, `peer ${p.id} at ${address} sent an ensemble membership that failed its integrity check`, (msg) => this.log.error({ peer: p.id, address }, msg));
      return false;
    }
    const differences = membershipDifferences(this.members, claimed);
    if (differences.length === 0) {
      this.unchecked.delete(p.id);
      return true;
    }
    this.report(p.id, `peer ${p.id} at ${address} has a different ensemble: ${describeDifferences(differences)}`, (msg) =>
      this.log.error({ peer: p.id, address, differences }, msg),
    );
    return false;
  }
}
