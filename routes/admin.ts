// /v1/admin/*: ZooKeeper's four-letter words as JSON (ruok as text; mntr also as ZooKeeper's tab-separated text), and
// ready for readiness probes. ruok, ready, srvr, mntr and cluster are open; the others need the super user when a
// super digest is configured.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ZkNode } from '../server/node.js';
import type { ConnectionRegistry } from '../server/connections.js';
import { clusterInfo, pendingSyncs } from '../server/cluster-info.js';
import { snapshotAccess, superOnly } from './admin-auth.js';
import { ZkError } from '../server/errors.js';
import { ErrorRef } from '../openapi/schemas.js';
import { adminDetailRoutes } from './admin-detail.js';
import { snapshotRoutes } from './admin-snapshot.js';

import { VERSION } from '../server/version.js';
import { fileDescriptorKeys } from '../server/file-descriptors.js';

/**
 * Why this node does not serve now, or undefined when it does: in a quorum (or standalone) and answering reads.
 * ZooKeeper's own measure: its srvr says "not currently serving requests" (and zkServer.sh status fails) until a
 * server has synced with its leader. ruok only says the process is up.
 */
function notServing(node: ZkNode): string | undefined {
  if (node.mode === 'looking') return 'this node knows no leader (looking): no quorum, or an election in progress';
  return node.readRefusal();
}

export function srvr(node: ZkNode) {
  const s = node.stats;
  const c = node.store.counters();
  return {
    version: VERSION,
    mode: node.mode,
    zxid: String(node.appliedZxid),
    nodeCount: c.znodes,
    connections: node.connectionCount(),
    outstanding: node.pendingWrites,
    received: s.requests,
    sent: s.requests,
    latency: {
      min: s.requests === 0 ? 0 : Math.round(s.latencyMinMs * 1000) / 1000,
      avg: s.requests === 0 ? 0 : Math.round((s.latencyTotalMs / s.requests) * 1000) / 1000,
      max: Math.round(s.latencyMaxMs * 1000) / 1000,
    },
  };
}

/** srvr's answer as a schema: its own route's and, with the client list, the stat route's. */
export function srvrFields() {
  return {
    version: Type.String(),
    mode: Type.String({ examples: ['standalone'] }),
    zxid: Type.String(),
    nodeCount: Type.Integer(),
    connections: Type.Integer(),
    outstanding: Type.Integer(),
    received: Type.Integer(),
    sent: Type.Integer(),
    latency: Type.Object({ min: Type.Number(), avg: Type.Number(), max: Type.Number() }),
  };
}

export function mntr(node: ZkNode): Record<string, string | number> {
  const s = srvr(node);
  const c = node.store.counters();
  const mem = process.memoryUsage();
  return {
    zk_version: VERSION,
    zk_server_state: node.mode,
    zk_avg_latency: s.latency.avg,
    zk_max_latency: s.latency.max,
    zk_min_latency: s.latency.min,
    zk_packets_received: s.received,
    zk_packets_sent: s.sent,
    zk_num_alive_connections: s.connections,
    zk_outstanding_requests: s.outstanding,
    zk_znode_count: c.znodes,
    zk_watch_count: node.watchCount(),
    zk_ephemerals_count: c.ephemerals,
    zk_approximate_data_size: c.dataBytes,
    zk_global_sessions: node.sessions.size,
    zk_last_zxid: String(node.appliedZxid),
    zk_uptime: Date.now() - node.stats.startedAt,
    zk_heap_used_bytes: mem.heapUsed,
    zk_rss_bytes: mem.rss,
    ...fileDescriptorKeys(),
    ...leaderKeys(node),
  };
}

/** ZooKeeper's leader-only mntr keys: learners connected, voters within sync, syncs in flight. */
function leaderKeys(node: ZkNode): Record<string, number> {
  if (node.mode !== 'leader') return {};
  const info = clusterInfo(node);
  const others = info.members.filter((m) => m.id !== info.myid);
  return {
    zk_followers: others.filter((m) => m.connected).length,
    zk_synced_followers: others.filter((m) => m.synced === true && m.role === 'follower').length,
    zk_synced_observers: others.filter((m) => m.synced === true && m.role === 'observer').length,
    zk_pending_syncs: pendingSyncs(node),
  };
}

export interface AdminRouteOptions {
  node: ZkNode;
  conns: ConnectionRegistry;
}

const ClusterMember = Type.Object({
  id: Type.Integer(),
  role: Type.String({ examples: ['follower'] }),
  peerAddress: Type.String({ examples: ['zk2:2888'] }),
  httpAddress: Type.String({ examples: ['zk2:8080'] }),
  appliedZxid: Type.String({ examples: ['42'] }),
  lagEntries: Type.Integer(),
  connected: Type.Boolean(),
  synced: Type.Union([Type.Boolean(), Type.Null()], { description: "On the leader: the member acknowledged within syncLimit × tickTime, ZooKeeper's synced (the leader itself: true). Null on other nodes." }),
  linkError: Type.Union([Type.String(), Type.Null()], {
    description: 'Why this node has no peer link to the member, as its log says it (unreachable, refused, a different ensemble); null while linked, for the node itself, or before any attempt.',
    examples: ['peer 3 at zk3:2888 has a different ensemble: it lists server.4=zk4:2888:3888:participant, which this member does not'],
  }),
});

/** A string that is null when there is nothing to say (a reason, a refusal). */
const TextOrNull = (description: string) => Type.Union([Type.String(), Type.Null()], { description });

/** The open four-letter words: what health checks and monitors read, served on the metrics port as well. */
export const openAdminRoutes: FastifyPluginAsync<{ node: ZkNode }> = async (app, { node }) => {
  app.get('/v1/admin/ruok', {
    schema: { tags: ['admin'], summary: 'ruok: answers imok while the process is up', response: { 200: Type.String({ examples: ['imok'] }) } },
    handler: async (_req, reply) => reply.type('text/plain').send('imok'),
  });

  app.get('/v1/admin/ready', {
    schema: {
      tags: ['admin'],
      summary: 'ready: 200 while this node serves, else 503 saying why (for readiness probes and rolling restarts)',
      description:
        'Serving: standalone, or an ensemble member that has a leader and answers reads (not cut off, caught up, not installing a snapshot). ' +
        'A member in `looking` is not ready even with `readonlymode.enabled`. `zkgate status` exits 0 under the same condition. ' +
        '`ruok` answers as soon as the process is up; wait for this before restarting the next member.',
      response: {
        200: Type.Object({ ready: Type.Literal(true), mode: Type.String({ examples: ['follower'] }) }, { examples: [{ ready: true, mode: 'follower' }] }),
        503: ErrorRef,
      },
    },
    handler: async () => {
      const why = notServing(node);
      if (why !== undefined) throw new ZkError('ConnectionLoss', why);
      return { ready: true as const, mode: node.mode };
    },
  });

  app.get('/v1/admin/srvr', {
    schema: {
      tags: ['admin'],
      summary: 'srvr: server summary',
      response: {
        200: Type.Object(srvrFields()),
      },
    },
    handler: async () => srvr(node),
  });

  app.get('/v1/admin/mntr', {
    schema: {
      tags: ['admin'],
      summary: 'mntr: monitoring key/values',
      description: 'A flat JSON object keyed by ZooKeeper\'s names, or ZooKeeper\'s `key\\tvalue` lines with `Accept: text/plain`.',
      response: { 200: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]), { examples: [{ zk_server_state: "standalone", zk_znode_count: 4 }] }) },
    },
    handler: async (req, reply) => {
      const m = mntr(node);
      if ((req.headers.accept ?? '').includes('text/plain')) {
        return reply.type('text/plain').send(Object.entries(m).map(([k, v]) => `${k}\t${v}`).join('\n') + '\n');
      }
      return m;
    },
  });

  app.get('/v1/admin/cluster', {
    schema: {
      tags: ['admin'],
      summary: 'cluster: the ensemble as this node sees it',
      description: 'Standalone: `{myid: null, leader: null, term: 0, commitZxid, members: [], readRefusal: null, voteLimit: null, leaderRefusal: null, history: null}`.',
      response: {
        200: Type.Object(
          {
            myid: Type.Union([Type.Integer(), Type.Null()]),
            leader: Type.Union([Type.Integer(), Type.Null()]),
            term: Type.Integer(),
            commitZxid: Type.String(),
            members: Type.Array(ClusterMember),
            readRefusal: TextOrNull(
              'Why this node answers reads with 503 just now: cut off from its leader for longer than syncLimit × tickTime, catching up after a rejoin or a start, installing a snapshot, or refusing its leader (its data is not the ensemble\'s); null while it serves them.',
            ),
            voteLimit: TextOrNull(
              'How this member limits its vote just now: it started with an empty consensus log (a new member, or one whose disk was lost) and has not caught up, so it votes only for a candidate holding what was committed when a leader first reached it (before that, only for one with an empty log) and does not campaign; null for any other member.',
            ),
            leaderRefusal: TextOrNull(
              "Why this member refuses to follow the leader of the current term: the leader's log disagrees with what this member holds as committed, or belongs to another history, so the two started from different data (a snapshot restored into some members only, a standalone data dir joining members that started without it, members that started empty electing a leader while this one was away); null for any other member.",
            ),
            history: TextOrNull(
              "Which history this member's consensus log belongs to: 13 hex digits drawn by the leader that founded the log (the ensemble's first, whose log was empty) and taken by every member from the leader it follows; a log begun before this release, or started from a restored tree, has none. Members of one ensemble show the same; a member refuses a leader, and a candidate, of another. Null standalone, and before a member's first leader.",
            ),
          },
          { examples: [{ myid: null, leader: null, term: 0, commitZxid: '42', members: [], readRefusal: null, voteLimit: null, leaderRefusal: null, history: null }] },
        ),
      },
    },
    handler: async () => clusterInfo(node),
  });
};

export const adminRoutes: FastifyPluginAsync<AdminRouteOptions> = async (app, { node, conns }) => {
  await app.register(openAdminRoutes, { node });
  await app.register(async (sensitive) => {
    sensitive.addHook('onRequest', superOnly(node));
    await sensitive.register(adminDetailRoutes, { node, conns });
  });
  await app.register(async (snapshot) => {
    snapshot.addHook('onRequest', snapshotAccess(node));
    await snapshot.register(snapshotRoutes, { node });
  });
};
