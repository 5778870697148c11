// The ensemble's view as /v1/admin/cluster and the consensus metrics report it. A standalone node answers
// the fixed standalone view; the ensemble code registers a ClusterSource for its node with setClusterSource.
import type { ZkNode } from './node.js';

export interface ClusterMember {
  id: number;
  /** 'unknown': this node knows no leader, so it cannot tell another member's role. */
  role: 'leader' | 'follower' | 'observer' | 'looking' | 'unknown';
  peerAddress: string;
  httpAddress: string;
  appliedZxid: string;
  lagEntries: number;
  connected: boolean;
  /** The leader's view: acknowledged within syncLimit × tickTime (the leader itself: true). Null elsewhere. */
  synced: boolean | null;
  /** Why this node has no link to the member (unreachable, refused, a different ensemble…); null while linked, for itself, or before any attempt. */
  linkError: string | null;
}

export interface ClusterInfo {
  myid: number | null;
  leader: number | null;
  term: number;
  commitZxid: string;
  members: ClusterMember[];
  /** Why this node serves no reads just now (cut off from its leader, catching up, installing a snapshot); null while it serves them. */
  readRefusal: string | null;
  /** How a member that started with an empty consensus log limits its vote until it has caught up (quorum/core/amnesia.ts). */
  voteLimit: string | null;
  /** Why this member refuses the leader of the current term: its data differs from the leader's (quorum/core/follower.ts). */
  leaderRefusal: string | null;
  /** The history this member's consensus log belongs to (quorum/core/history.ts); null standalone or before its first leader. */
  history: string | null;
}

export interface ClusterSource {
  info(): Omit<ClusterInfo, 'readRefusal'>;
  /** Elections this node has started or joined since it started. */
  electionsTotal(): number;
  /** Linearizable reads and syncs waiting for the leader to confirm a read index. */
  pendingSyncs?(): number;
}

const sources = new WeakMap<ZkNode, ClusterSource>();

export function setClusterSource(node: ZkNode, source: ClusterSource): void {
  sources.set(node, source);
}

export function clusterInfo(node: ZkNode): ClusterInfo {
  const s = sources.get(node);
  const readRefusal = node.readRefusal() ?? null;
  if (s) return { ...s.info(), readRefusal };
  return { myid: node.cfg.myid ?? null, leader: null, term: 0, commitZxid: String(node.appliedZxid), members: [], readRefusal, voteLimit: null, leaderRefusal: null, history: null };
}

export function electionsTotal(node: ZkNode): number {
  return sources.get(node)?.electionsTotal() ?? 0;
}

export function pendingSyncs(node: ZkNode): number {
  return sources.get(node)?.pendingSyncs?.() ?? 0;
}
