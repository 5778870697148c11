// The admin endpoints that reveal clients, sessions, config or the host (stat, conf, cons, dump, envi):
// registered under the super-user hook by routes/admin.ts.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { hostname, userInfo, platform, arch, release, freemem, totalmem, cpus } from 'node:os';
import type { ZkNode } from '../server/node.js';
import type { ConnectionRegistry, ConnectionStats } from '../server/connections.js';
import { srvr, srvrFields } from './admin.js';
import { VERSION } from '../server/version.js';

const ms3 = (x: number) => Math.round(x * 1000) / 1000;

function connectionView(c: ConnectionStats & { outstanding: number }) {
  return {
    id: c.id,
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    kind: c.kind,
    established: new Date(c.establishedAt).toISOString(),
    requests: c.requests,
    outstanding: c.outstanding,
    lastOp: c.lastOp,
    lastSessionId: c.lastSessionId,
    lastResponse: c.lastResponseAt === 0 ? null : new Date(c.lastResponseAt).toISOString(),
    lastLatencyMs: ms3(c.lastLatencyMs),
    minLatencyMs: ms3(c.minLatencyMs),
    avgLatencyMs: c.timed === 0 ? 0 : ms3(c.totalLatencyMs / c.timed),
    maxLatencyMs: ms3(c.maxLatencyMs),
  };
}

const Connection = Type.Object({
  id: Type.Integer(),
  remoteAddress: Type.String({ examples: ['127.0.0.1'] }),
  remotePort: Type.Integer(),
  kind: Type.String({ examples: ['http'] }),
  established: Type.String(),
  requests: Type.Integer(),
  outstanding: Type.Integer({ description: 'requests read on this connection and not yet answered (ZooKeeper\'s queued); HTTP only' }),
  lastOp: Type.String({ examples: ['getData'] }),
  lastSessionId: Type.String(),
  lastResponse: Type.Union([Type.String(), Type.Null()]),
  lastLatencyMs: Type.Number(),
  minLatencyMs: Type.Number(),
  avgLatencyMs: Type.Number(),
  maxLatencyMs: Type.Number(),
});

const Open = Type.Record(Type.String(), Type.Unknown(), { examples: [{ zkgateVersion: '0.1.0', hostName: 'zk1', nodeVersion: 'v20.19.0', osName: 'linux', pid: 1 }] });

export const adminDetailRoutes: FastifyPluginAsync<{ node: ZkNode; conns: ConnectionRegistry }> = async (app, { node, conns }) => {
  const limit = () => node.cfg.adminListLimit;

  app.get('/v1/admin/stat', {
    schema: {
      tags: ['admin'],
      summary: 'stat: srvr plus the connected clients',
      response: {
        200: Type.Object(
          { ...srvrFields(), clients: Type.Array(Connection), clientsTruncated: Type.Boolean() },
          { examples: [{ version: VERSION, mode: 'standalone', zxid: '42', nodeCount: 4, connections: 1, clients: [], clientsTruncated: false }] },
        ),
      },
    },
    handler: async () => {
      const clients = conns.list(limit());
      return { ...srvr(node), clients: clients.map(connectionView), clientsTruncated: conns.size > clients.length };
    },
  });

  app.get('/v1/admin/conf', {
    schema: {
      tags: ['admin'],
      summary: 'conf: the serving configuration (secrets left out)',
      response: { 200: Type.Record(Type.String(), Type.Unknown(), { examples: [{ tickTime: 2000, dataDir: '/var/lib/zkgate', httpPort: 8080, serverId: null }] }) },
    },
    handler: async () => {
      const { ensembleSecret, superDigest, unknownKeys, servers, myid, peerTls, ...rest } = node.cfg;
      return {
        ...rest,
        serverId: myid ?? null,
        servers: servers.map((s) => ({ ...s })),
        ensembleSecretSet: ensembleSecret !== undefined,
        superDigestSet: superDigest !== undefined,
        unknownKeys,
      };
    },
  });

  app.get('/v1/admin/cons', {
    schema: {
      tags: ['admin'],
      summary: 'cons: open HTTP keep-alive and WebSocket connections with their stats',
      response: {
        200: Type.Object(
          { connections: Type.Array(Connection), truncated: Type.Boolean() },
          { examples: [{ connections: [], truncated: false }] },
        ),
      },
    },
    handler: async () => {
      const list = conns.list(limit());
      return { connections: list.map(connectionView), truncated: conns.size > list.length };
    },
  });

  app.get('/v1/admin/dump', {
    schema: {
      tags: ['admin'],
      summary: 'dump: live sessions and their ephemeral nodes',
      response: {
        200: Type.Object(
          {
            sessions: Type.Array(Type.Object({ sessionId: Type.String(), timeoutMs: Type.Integer(), ephemerals: Type.Array(Type.String()) })),
            sessionIdToEphemeralPaths: Type.Record(Type.String(), Type.Array(Type.String())),
            truncated: Type.Boolean(),
          },
          { examples: [{ sessions: [{ sessionId: '0x1a2b', timeoutMs: 30000, ephemerals: ['/workers/w1'] }], sessionIdToEphemeralPaths: { '0x1a2b': ['/workers/w1'] }, truncated: false }] },
        ),
      },
    },
    handler: async () => {
      const ids = node.sessions.ids();
      const take = ids.slice(0, limit());
      // The bound holds for the ephemerals listed too, all sessions' together: one session may hold a million.
      let room = limit();
      let cut = false;
      const sessions = take.map((id) => {
        const ephemerals = node.store.sessionEphemerals(id, room + 1);
        if (ephemerals.length > room) {
          ephemerals.length = room;
          cut = true;
        }
        room -= ephemerals.length;
        return { sessionId: id, timeoutMs: node.sessions.timeoutOf(id) ?? 0, ephemerals };
      });
      const byId: Record<string, string[]> = {};
      for (const s of sessions) byId[s.sessionId] = s.ephemerals;
      return { sessions, sessionIdToEphemeralPaths: byId, truncated: ids.length > take.length || cut };
    },
  });

  app.get('/v1/admin/envi', {
    schema: {
      tags: ['admin'],
      summary: 'envi: the environment the server runs in',
      description: 'As ZooKeeper\'s envi, with Node.js in place of the JVM. Environment variables are not listed (they may hold secrets).',
      response: { 200: Open },
    },
    handler: async () => {
      const mem = process.memoryUsage();
      let user = { username: '', homedir: '' };
      try {
        user = userInfo();
      } catch {
        // A uid without a passwd entry (common in containers) has no user name.
      }
      return {
        zkgateVersion: VERSION,
        hostName: hostname(),
        nodeVersion: process.version,
        nodeFlags: process.execArgv,
        osName: platform(),
        osArch: arch(),
        osVersion: release(),
        cpus: cpus().length,
        userName: user.username,
        userHome: user.homedir,
        userDir: process.cwd(),
        pid: process.pid,
        dataDir: node.cfg.dataDir,
        osMemoryFree: freemem(),
        osMemoryTotal: totalmem(),
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        rss: mem.rss,
        uptimeMs: Date.now() - node.stats.startedAt,
      };
    },
  });
};

