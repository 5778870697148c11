// The peer handshake's membership check (membership.ts says what is compared): this member's server list proved
// for one connection, a peer's list read back against its proof, and whether that peer may link.
import type { Logger } from 'pino';
import { describeDifferences, membershipDifferences, membershipText, parseMembership, type Member } from './membership.js';
import { membershipProof, sameProof, settingsProof } from './peer-auth.js';

/**
 * Each side's server list and its membershipProof, sent once the other side has proved the secret: the dialer's in
 * `auth`, the acceptor's in `ok` or `denied`. Absent from a build that predates the check; an older peer ignores it.
 */
export interface MembershipClaim {
  members?: string;
  membersProof?: Uint8Array;
  /** The settings every member must share, as `key=value` lines (sharedSettingsText), proved like the list. */
  settings?: string;
  settingsProof?: Uint8Array;
}

/**
 * Settings that must be equal on every member. jute.maxbuffer bounds a request, hence a log entry, hence the peer
 * frames that carry it (engine-config.ts peerBounds): a leader that takes a write larger than a follower's frame
 * bound sends an entry that follower can never receive, and every later write waits behind it. Compared when a
 * link comes up, the mistake shows at start, named, instead of as a wedged ensemble at the first large write.
 */
export function sharedSettingsText(s: { juteMaxBuffer: number }): string {
  return `jute.maxbuffer=${s.juteMaxBuffer}`;
}

/** Longest settings text read from a peer; anything longer is invalid (it ends up in logs). */
const MAX_SETTINGS_CHARS = 1024;

/** A peer's settings as read from its claim: `key=value` lines, none sent (an older build), or a claim that fails its proof. */
export type ClaimedSettings = Map<string, string> | 'absent' | 'invalid';

/** A peer's membership as read from its claim: its servers, none sent (an older build), or a claim that fails its proof. */
export type ClaimedMembership = Member[] | 'absent' | 'invalid';

/** Records why a peer has no link, logging only when the reason changes (the transport's report). */
type Report = (peer: number, msg: string, log: (msg: string) => void) => void;

export class MembershipCheck {
  private readonly text: string;
  private readonly settings: Map<string, string>;
  /** Peers linked without a membership check (older builds), each warned about once. */
  private readonly unchecked = new Set<number>();
  /** Peers linked without a settings check (older builds), each warned about once. */
  private readonly uncheckedSettings = new Set<number>();

  constructor(
    private readonly members: readonly Member[],
    private readonly myId: number,
    private readonly secret: string,
    private readonly log: Logger,
    private readonly report: Report,
    private readonly settingsText = '',
  ) {
    this.text = membershipText(members);
    this.settings = parseSettings(settingsText) ?? new Map();
  }

  /** This member's list and settings for the peer `other`, proved for this connection ('C' when this side dialed, 'S' when it accepted). */
  claim(role: 'S' | 'C', dialNonce: Buffer, acceptNonce: Buffer, other: number): Required<MembershipClaim> {
    const [dialId, acceptId] = role === 'C' ? [this.myId, other] : [other, this.myId];
    return {
      members: this.text,
      membersProof: membershipProof(this.secret, role, dialNonce, acceptNonce, dialId, acceptId, this.text),
      settings: this.settingsText,
      settingsProof: settingsProof(this.secret, role, dialNonce, acceptNonce, dialId, acceptId, this.settingsText),
    };
  }

  /** The settings `other` sent in `c`, if the proof it wrote as `role` holds for this connection. */
  readSettings(c: MembershipClaim, role: 'S' | 'C', dialNonce: Buffer, acceptNonce: Buffer, other: number): ClaimedSettings {
    if (c.settings === undefined) return 'absent';
    if (typeof c.settings !== 'string' || !(c.settingsProof instanceof Uint8Array)) return 'invalid';
    const [dialId, acceptId] = role === 'C' ? [other, this.myId] : [this.myId, other];
    if (!sameProof(settingsProof(this.secret, role, dialNonce, acceptNonce, dialId, acceptId, c.settings), c.settingsProof)) return 'invalid';
    return parseSettings(c.settings) ?? 'invalid';
  }

  /**
   * Whether `p` may link, given the settings it claimed: yes when every setting both name is equal, or when it sent
   * none (an older build: warned once). Says which differ, once per reason.
   */
  admitSettings(p: { id: number; host: string; port: number }, claimed: ClaimedSettings): boolean {
    const address = `${p.host}:${p.port}`;
    if (claimed === 'absent') {
      if (!this.uncheckedSettings.has(p.id)) {
        this.uncheckedSettings.add(p.id);
        this.log.warn({ peer: p.id, address }, `peer ${p.id} at ${address} sent no shared settings (an older zkgate?): linked without checking that its jute.maxbuffer is this member's`);
      }
      return true;
    }
    if (claimed === 'invalid') {
      this.report(p.id, `peer ${p.id} at ${address} sent shared settings that failed their integrity check`, (msg) => this.log.error({ peer: p.id, address }, msg));
      return false;
    }
    this.uncheckedSettings.delete(p.id);
    const differences = [...this.settings].filter(([k, v]) => claimed.has(k) && claimed.get(k) !== v).map(([k, v]) => `${k}=${claimed.get(k)} where this member has ${k}=${v}`);
    if (differences.length === 0) return true;
    this.report(p.id, `peer ${p.id} at ${address} has ${differences.join(', ')}: every member needs the same`, (msg) =>
      this.log.error({ peer: p.id, address, differences }, msg),
    );
    return false;
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

/** `key=value` lines as sharedSettingsText writes them; undefined for anything else. */
function parseSettings(text: string): Map<string, string> | undefined {
  if (text.length > MAX_SETTINGS_CHARS) return undefined;
  const out = new Map<string, string>();
  if (text === '') return out;
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z][\w.]{0,63})=([\w.:-]{0,64})$/.exec(line);
    if (!m) return undefined;
    out.set(m[1] as string, m[2] as string);
  }
  return out;
}
