// What two members must agree on before they share a link: which servers there are and which of them vote.
// Members whose lists differ there count different quorums and could elect two leaders, so the peer handshake
// compares them and refuses the link, naming what differs (etcd's "cluster ID mismatch", told in server.N terms).
//
// Addresses do not count. They decide only where a member dials, and they legitimately differ between copies of one
// ensemble: a member listing itself on 0.0.0.0, one member naming a host by DNS name and another by IP, peers
// reached through NAT, port mappings or proxies (the fault harness puts one between every pair). A wrong address
// shows as a link that does not come up, or as `expected peer N, reached peer M`. The HTTP part decides nothing here.
import { parseServerLine, type ServerLine } from '../ensemble-config.js';

export type Member = Pick<ServerLine, 'id' | 'host' | 'peerPort' | 'electionPort' | 'role'>;

/** server.1 to server.254, as zoo.cfg allows (0 is the consensus core's "no node"). */
export const MAX_MEMBERS = 254;
/** A DNS name (253) and the rest of a line fit; a longer line is no membership this build could have written. */
const MAX_LINE_CHARS = 320;
/** How many differences one log line names; an entirely different ensemble would otherwise list every server. */
const MAX_DIFFERENCES_NAMED = 5;

function lineOf(m: Member): string {
  return `server.${m.id}=${m.host.toLowerCase()}:${m.peerPort}:${m.electionPort}:${m.role}`;
}

/** The canonical list a member sends in the handshake: one line per member, sorted by id, no HTTP part. */
export function membershipText(members: readonly Member[]): string {
  return [...members]
    .sort((a, b) => a.id - b.id)
    .map(lineOf)
    .join('\n');
}

/** Reads a peer's list; throws on anything membershipText cannot have produced (it ends up in logs). */
export function parseMembership(text: string): Member[] {
  if (text.length > MAX_MEMBERS * (MAX_LINE_CHARS + 1)) throw new Error('membership too long');
  const lines = text.split('\n');
  if (lines.length > MAX_MEMBERS) throw new Error(`more than ${MAX_MEMBERS} servers`);
  const out: Member[] = [];
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (line.length > MAX_LINE_CHARS || !line.startsWith('server.') || eq < 0 || line.includes(';') || /[\s\x00-\x1f\x7f]/.test(line)) {
      throw new Error('malformed server line');
    }
    const { id, host, peerPort, electionPort, role } = parseServerLine(line.slice(0, eq), line.slice(eq + 1));
    if (out.length > 0 && id <= (out.at(-1) as Member).id) throw new Error('server lines out of order');
    out.push({ id, host, peerPort, electionPort, role });
  }
  return out;
}

/**
 * What differs between this member's list and a peer's in servers and roles, in words an operator acts on ("it" is
 * the peer); empty when they agree.
 */
export function membershipDifferences(mine: readonly Member[], theirs: readonly Member[]): string[] {
  const here = new Map(mine.map((m) => [m.id, m]));
  const there = new Map(theirs.map((m) => [m.id, m]));
  const ids = [...new Set([...here.keys(), ...there.keys()])].sort((a, b) => a - b);
  const out: string[] = [];
  for (const id of ids) {
    const a = here.get(id);
    const b = there.get(id);
    if (!a) {
      out.push(`it lists ${lineOf(b as Member)}, which this member does not`);
      continue;
    }
    if (!b) {
      out.push(`this member lists ${lineOf(a)}, which it does not`);
      continue;
    }
    if (a.role !== b.role) out.push(`server.${id} has role ${a.role} here, ${b.role} there`);
  }
  return out;
}

/** The differences as one clause list, the first few named and the rest counted. */
export function describeDifferences(differences: readonly string[]): string {
  const named = differences.slice(0, MAX_DIFFERENCES_NAMED).join('; ');
  const more = differences.length - MAX_DIFFERENCES_NAMED;
  return more > 0 ? `${named}; and ${more} more difference${more === 1 ? '' : 's'}` : named;
}
