// GET /v1/watch: the WebSocket upgrade (ws, on fastify's own HTTP server and port), its limits (connections in
// total and per client address), the documented frame schemas, and closing every socket with 1001 on shutdown.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { ConnectionRegistry } from '../server/connections.js';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type ServerOptions } from 'ws';
import { Type } from '@sinclair/typebox';
import { ZkError } from '../server/errors.js';
import { rawErrorResponse } from '../server/raw-error.js';
import type { ZkNode } from '../server/node.js';
import type { WatchHub } from '../server/watches/hub.js';
import { ErrorRef } from '../openapi/schemas.js';
import { WATCH_FRAME_SCHEMAS } from '../openapi/watch-schemas.js';
import { WatchConnection } from './watch-connection.js';
import { originRefusal } from '../server/origins.js';
import { requestAuth } from './context.js';

export interface WatchRoutes {
  /** Open watch connections (for admin listings). */
  connections(): WatchConnection[];
}

/** How often a member checks whether it has been without a leader too long for its session-bound sockets. */
const LEADERLESS_CHECK_MS = 100;

const DESCRIPTION = `Upgrade to a WebSocket (\`ws://host:port/v1/watch\`) carrying JSON text frames (API.md §5).

Client → server: \`WatchRequest\` \`{id, op:"watch", path, kind, sinceZxid?}\`, \`ResumeRequest\` \`{id, op:"resume", sinceZxid, watches:[{path, kind}], more?}\` (after a reconnect; \`more:true\` holds a frame's watches until the frame that completes the batch), \`UnwatchRequest\`, \`SessionRequest\`, \`PingRequest\`.
Server → client: \`WatchReply\` \`{id, ok:true, zxid, stat, data?|children?}\` (the state the watch was armed at, read at that zxid),
\`WatchErrorReply\` \`{id, ok:false, error, code, message}\`, \`WatchEvent\` \`{type:"event", event, path, zxid}\` in zxid order,
\`SessionEvent\` \`{type:"session", state:"expired"|"closed"}\`, \`ResyncEvent\` \`{type:"resync", path}\` (schemas in components).

Events need READ on the changed node (the parent for NodeChildrenChanged), as in ZooKeeper 3.8.4+. With \`sinceZxid\`, missed
changes are sent before the reply. \`Authorization: Basic\` on the upgrade authenticates the connection. Limits (server/config.ts):
wsMaxConnections, wsMaxConnectionsPerIp (503 on the upgrade), wsMaxWatchesPerConnection, wsMaxFrameBytes (close 1009),
wsMaxBufferedBytes (a slow reader is closed with 1008), wsMaxResumeBytes (resume frames held with more:true), wsMaxReplyBytes (a resume batch's reply). A plain GET without the upgrade is 400 BadArguments with \`Upgrade: websocket\`.`;

export async function installWatchRoutes(app: FastifyInstance, node: ZkNode, hub: WatchHub<WatchConnection>, registry?: ConnectionRegistry): Promise<WatchRoutes> {
  const cfg = node.cfg;
  for (const s of WATCH_FRAME_SCHEMAS) app.addSchema(s);
  // perMessageDeflate stays off: WatchConnection writes pre-framed events beside ws, which is only in order uncompressed.
  // ws cuts a closing socket after its own closeTimeout (30 s by default; ws 8.23 takes it, @types/ws does not know it
  // yet): it must be our grace, or a longer one is cut short.
  const options: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    maxPayload: cfg.wsMaxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
    closeTimeout: cfg.wsCloseGraceMs,
  };
  const wss = new WebSocketServer(options);
  // A handshake ws refuses (a method other than GET, a missing or bad Sec-WebSocket-Key or -Version, an Upgrade other
  // than websocket): ws's own answer is text/html; this one is ZooKeeper-style, as every other refusal.
  wss.on('wsClientError', (err: Error, socket: Duplex, req: IncomingMessage) => {
    const method = req.method !== 'GET';
    const e = method
      ? new ZkError('Unimplemented', `${req.method} is not allowed on /v1/watch: a WebSocket upgrade is a GET`, { httpStatus: 405 })
      : new ZkError('BadArguments', `not a WebSocket upgrade ws can accept: ${err.message}`);
    const extra = method ? ['Allow: GET'] : /Sec-WebSocket-Version/.test(err.message) ? ['Sec-WebSocket-Version: 13, 8'] : [];
    if (socket.writable) socket.end(rawErrorResponse(node, e, extra));
    else socket.destroy();
  });
  const conns = new Set<WatchConnection>();
  const perIp = new Map<string, number>();
  let sockets = 0;
  let closing = false;

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    const ip = req.socket.remoteAddress ?? '';
    try {
      // Node hands every request with an Upgrade header here, whatever it asks for; Node 20 cannot give one back to be
      // served as plain HTTP/1.1. `curl --http2` over http:// sends Upgrade: h2c.
      const upgrade = String(req.headers.upgrade ?? '');
      if (!/(^|[\s,])websocket($|[\s,])/i.test(upgrade)) {
        throw new ZkError('BadArguments', `this server does not switch to ${JSON.stringify(upgrade.slice(0, 40))}: send the request without an Upgrade header (curl: --http1.1, not --http2, over http://)`);
      }
      if (path !== '/v1/watch') throw new ZkError('Unimplemented', `no WebSocket endpoint at ${path}`);
      const refused = originRefusal(req.headers, cfg.corsAllowOrigins, cfg.httpHost);
      if (refused) throw new ZkError('NoAuth', refused);
      if (closing) throw new ZkError('ConnectionLoss', 'server is shutting down', { applied: false });
      if (sockets >= cfg.wsMaxConnections) throw new ZkError('ConnectionLoss', `too many WebSocket connections (wsMaxConnections ${cfg.wsMaxConnections})`);
      const fromIp = perIp.get(ip) ?? 0;
      if (fromIp >= cfg.wsMaxConnectionsPerIp) {
        throw new ZkError('ConnectionLoss', `too many WebSocket connections from ${ip} (wsMaxConnectionsPerIp ${cfg.wsMaxConnectionsPerIp})`);
      }
      const auth = requestAuth(req.headers, req.socket, ip, node);
      sockets++;
      perIp.set(ip, fromIp + 1);
      socket.once('close', () => {
        sockets--;
        const n = (perIp.get(ip) ?? 1) - 1;
        if (n > 0) perIp.set(ip, n);
        else perIp.delete(ip);
      });
      wss.handleUpgrade(req, socket, head, (ws) => {
        // Each frame answered counts in /v1/admin/cons as a request on this connection, as an HTTP one does.
        const record = registry && ((op: string, ms: number, sessionId: string | undefined) => registry.record(socket as Socket, op, ms, sessionId));
        const c = new WatchConnection(ws, socket, auth, ip, hub, node, record);
        conns.add(c);
        ws.once('close', () => conns.delete(c));
        if (closing) c.close(1001, 'server shutting down');
      });
    } catch (e) {
      socket.end(rawErrorResponse(node, e instanceof ZkError ? e : new ZkError('ConnectionLoss', 'upgrade failed')));
    }
  });

  app.get('/v1/watch', {
    schema: {
      tags: ['watches'],
      summary: 'watches over WebSocket (upgrade)',
      description: DESCRIPTION,
      headers: Type.Object({
        upgrade: Type.Optional(Type.String({ description: 'websocket', examples: ['websocket'] })),
        authorization: Type.Optional(Type.String({ description: 'Basic user:password, authenticates the connection as digest:user' })),
      }),
      response: { 101: Type.Null({ description: 'Switching Protocols: frames as described' }), 400: ErrorRef, 503: ErrorRef },
    },
    handler: async (_req, reply) => {
      reply.header('Upgrade', 'websocket');
      // BadArguments is 400 in API.md §6's table; the Upgrade header says what HTTP's 426 would.
      throw new ZkError('BadArguments', 'GET /v1/watch must be a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)');
    },
  });

  // A follower that installed the leader's snapshot has no change history for the jump: every client is
  // told to reconnect and resume with sinceZxid, which re-reads (or resyncs) against the new state.
  node.on('stateReplaced', () => {
    hub.history.reset(node.appliedZxid);
    hub.blocking.releaseAll();
    for (const c of conns) c.close(1012, 'state replaced by a snapshot from the leader; reconnect with sinceZxid');
  });

  // A session-bound socket on a member that has known no leader for a third of the session's timeout is closed
  // (1013): its touches reach no one, so its client must learn that it is cut off and rebind on a server that has a
  // leader before the majority expires the session, as a ZooKeeper server drops its clients when it loses its leader.
  // Past syncLimit × tickTime without a leader every socket goes (unless readonlymode.enabled): its watches would
  // miss what the majority changes, and its client would never know (the member refuses reads then too).
  let lookingSince = 0;
  const closeLeaderless = () => {
    if (node.mode !== 'looking') {
      lookingSince = 0;
      return;
    }
    const now = performance.now();
    lookingSince ||= now;
    const cutOff = node.cutOff;
    for (const c of conns) {
      const timeoutMs = c.sessionId ? node.sessions.timeoutOf(c.sessionId) : undefined;
      if (timeoutMs !== undefined && now - lookingSince >= timeoutMs / 3) {
        c.close(1013, 'this server knows no leader (no quorum?) and cannot keep the session alive; bind it on another server');
      } else if (cutOff) {
        c.close(1013, 'no leader for longer than syncLimit × tickTime: watches here may miss changes; reconnect to another server');
      }
    }
  };
  // Only an ensemble member is ever without a leader: a standalone server runs no check.
  const leaderless = cfg.servers.length > 0 ? setInterval(closeLeaderless, LEADERLESS_CHECK_MS) : undefined;
  leaderless?.unref();

  // Before fastify closes the server: no new upgrades, every socket told 1001, blocking reads answered now.
  app.addHook('preClose', async () => {
    clearInterval(leaderless);
    closing = true;
    hub.blocking.releaseAll();
    for (const c of conns) c.close(1001, 'server shutting down');
    const deadline = performance.now() + cfg.wsCloseGraceMs + 100;
    while (sockets > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  });

  return { connections: () => [...conns] };
}
