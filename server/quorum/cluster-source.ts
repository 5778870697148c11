// /v1/admin/cluster for an ensemble member: members, roles, term, commit index and each follower's lag,
// from the consensus core's status (the leader's progress view) and the peer links.
import type { Config } from '../config.js';
import type { ClusterInfo, ClusterMember, ClusterSource } from '../cluster-info.js';
import type { RaftEngine } from './engine.js';
import { memberHttpAddress } from '../ensemble-config.js';

export function raftClusterSource(cfg: Config, engine: RaftEngine): ClusterSource {
  return {
    electionsTotal: () => engine.elections,
    pendingSyncs: () => engine.pendingReads,
    info(): Omit<ClusterInfo, 'readRefusal'> {
      const st = engine.status();
      const me = cfg.myid as number;
      const members: ClusterMember[] = cfg.servers.map((s) => {
        const pr = st.progress?.[s.id];
        const isMe = s.id === me;
        // Without a leader this node cannot tell what the others are doing; it knows only its own role.
        const role: ClusterMember['role'] =
          s.id === st.leaderId ? 'leader' : st.leaderId === 0 ? 'unknown' : s.role === 'observer' ? 'observer' : 'follower';
        // A leader's progress starts every member at match 0: until one acknowledges, its position is unknown, not 0.
        const applied = isMe ? engine.appliedZxid : pr && pr.match > 0 ? pr.match : -1;
        const connected = isMe || engine.peers.isConnected(s.id);
        return {
          id: s.id,
          role: isMe && engine.mode === 'looking' ? 'looking' : role,
          peerAddress: `${s.host}:${s.peerPort}`,
          httpAddress: memberHttpAddress(s, cfg.httpPort),
          appliedZxid: applied >= 0 ? String(applied) : 'unknown',
          lagEntries: isMe ? Math.max(0, st.commit - engine.appliedZxid) : applied >= 0 ? Math.max(0, st.lastIndex - applied) : -1,
          connected,
          synced: st.progress === null ? null : isMe || (connected && engine.synced(s.id)),
          linkError: connected ? null : (engine.peers.lastError.get(s.id) ?? null),
        };
      });
      return { myid: me, leader: st.leaderId || null, term: st.term, commitZxid: String(st.commit), members, voteLimit: engine.voteLimit(), leaderRefusal: engine.leaderRefusal(), history: engine.history() };
    },
  };
}
