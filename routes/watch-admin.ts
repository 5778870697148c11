// /v1/admin/wchs, wchc, wchp: ZooKeeper's watch summary, watches by connection and by path (JSON, camelCase),
// with the listings bounded by adminListLimit.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ZkNode } from '../server/node.js';
import type { WatchHub } from '../server/watches/hub.js';
import { kindsOf } from '../server/watches/registry.js';
import type { WatchConnection } from './watch-connection.js';
import { superOnly } from './admin-auth.js';

export interface WatchAdminOptions {
  node: ZkNode;
  hub: WatchHub<WatchConnection>;
  connections: () => WatchConnection[];
}

const Kinds = Type.Array(Type.String({ examples: ['data', 'persistent'] }));

export const watchAdminRoutes: FastifyPluginAsync<WatchAdminOptions> = async (app, { node, hub, connections }) => {
  // Watch listings name sessions and paths: super user only when a super digest is set (routes/admin-auth.ts).
  app.addHook('onRequest', superOnly(node));
  const limit = () => node.cfg.adminListLimit;

  app.get('/v1/admin/wchs', {
    schema: {
      tags: ['admin'],
      summary: 'wchs: watch summary',
      response: {
        200: Type.Object({
          numConnections: Type.Integer({ description: 'open watch connections', examples: [2] }),
          numWatchingConnections: Type.Integer({ description: 'connections holding at least one watch' }),
          numPaths: Type.Integer({ description: 'watched paths' }),
          numTotalWatches: Type.Integer({ description: 'watches (each path × kind × connection counts one)' }),
          numBlockingReads: Type.Integer({ description: 'blocking reads waiting now' }),
        }),
      },
    },
    handler: async () => ({
      numConnections: connections().length,
      numWatchingConnections: hub.registry.watcherCount,
      numPaths: hub.registry.pathCount,
      numTotalWatches: hub.registry.count,
      numBlockingReads: hub.blocking.size,
    }),
  });

  app.get('/v1/admin/wchc', {
    schema: {
      tags: ['admin'],
      summary: 'wchc: watches by connection',
      description: 'Each connection with its session (if bound) and watched paths; at most adminListLimit paths in all.',
      response: {
        200: Type.Object({
          connections: Type.Array(
            Type.Object({
              connection: Type.String({ examples: ['ws-3'] }),
              sessionId: Type.Union([Type.String(), Type.Null()]),
              remoteAddress: Type.String(),
              watches: Type.Array(Type.Object({ path: Type.String(), kinds: Kinds })),
            }),
          ),
          truncated: Type.Boolean(),
        }),
      },
    },
    handler: async () => {
      let left = limit();
      let truncated = false;
      const out = [];
      for (const c of hub.registry.watchers()) {
        const watches = [];
        for (const [path, bits] of hub.registry.watchesOf(c)) {
          if (left-- <= 0) {
            truncated = true;
            break;
          }
          watches.push({ path, kinds: kindsOf(bits) });
        }
        out.push({ connection: c.id, sessionId: c.sessionId, remoteAddress: c.remoteAddress, watches });
        if (truncated) break;
      }
      return { connections: out, truncated };
    },
  });

  app.get('/v1/admin/wchp', {
    schema: {
      tags: ['admin'],
      summary: 'wchp: watches by path',
      description: 'Each watched path with the connections (and sessions) watching it; at most adminListLimit entries in all.',
      response: {
        200: Type.Object({
          paths: Type.Array(
            Type.Object({
              path: Type.String(),
              watchers: Type.Array(Type.Object({ connection: Type.String(), sessionId: Type.Union([Type.String(), Type.Null()]), kinds: Kinds })),
            }),
          ),
          truncated: Type.Boolean(),
        }),
      },
    },
    handler: async () => {
      let left = limit();
      let truncated = false;
      const out = [];
      for (const path of hub.registry.paths()) {
        const watchers = [];
        for (const [c, bits] of hub.registry.watchersOf(path)) {
          if (left-- <= 0) {
            truncated = true;
            break;
          }
          watchers.push({ connection: c.id, sessionId: c.sessionId, kinds: kindsOf(bits) });
        }
        out.push({ path, watchers });
        if (truncated) break;
      }
      return { paths: out, truncated };
    },
  });
};
