// The server lines a transport test's peers stand for: each on its peer port (the electionPort is unused), all voting.
import type { Member } from '../../server/quorum/membership.js';
import type { PeerAddr } from '../../server/quorum/transport.js';

export function membersOf(peers: readonly PeerAddr[]): Member[] {
  return peers.map((p) => ({ id: p.id, host: p.host, peerPort: p.port, electionPort: p.port, role: 'participant' }));
}
