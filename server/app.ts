// Builds the HTTP server: fastify with the route plugins, one error mapping, ZK-Zxid on every response,
// ZK-Min-Zxid waits, 405s with Allow, and the OpenAPI document with Swagger UI.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import cors from '@fastify/cors';
import type { Logger } from 'pino';
import { ZkError, errorReply } from './errors.js';
import type { ZkNode } from './node.js';
import { sessionIdOf } from './sessions/session-id.js';
import { zkErrorHandler } from './error-handler.js';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import { CORS_REQUEST_HEADERS, CORS_RESPONSE_HEADERS, originRefusal } from './origins.js';
import { ErrorSchema, StatSchema } from '../openapi/schemas.js';
import { openapiInfo } from '../openapi/info.js';
import { znodeRoutes, type ZnodeRouteOptions } from '../routes/znodes.js';
import { multiRoutes } from '../routes/multi.js';
import { aclRoutes } from '../routes/acl.js';
import { sessionRoutes } from '../routes/sessions.js';
import { adminRoutes } from '../routes/admin.js';
import { metricsRoutes } from '../routes/metrics.js';
import { installMetrics, isLongPoll, type NodeMetrics } from './metrics.js';
import { CONNECTION_WARN_EVERY_MS, onceEvery } from './once-every.js';
import { httpConnectionLimit } from './config.js';
import { ConnectionRegistry } from './connections.js';
import { LazySchemas } from './lazy-schemas.js';
import { fastWrite } from './fast-write.js';
import { fastGetData } from './fast-read.js';
import { answerConnect, clientErrorHandler } from './raw-error.js';
import { startInOrder } from './request-order.js';
import type { FastPathRecorder } from './fast-path.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parseQueryString } from './query-string.js';
import { requestSession } from '../routes/context.js';
import { RequestLog } from './request-log.js';

/** Route patterns and the methods each allows, for 405 answers with an Allow header. */
const ALLOWED: [RegExp, string[]][] = [
  [/^\/v1\/znodes(\/.*)?$/, ['GET', 'HEAD', 'POST', 'PUT', 'DELETE']],
  [/^\/v1\/acl\/.*$/, ['GET', 'PUT']],
  [/^\/v1\/multi$/, ['POST']],
  [/^\/v1\/sync$/, ['POST']],
  [/^\/v1\/sessions$/, ['POST']],
  [/^\/v1\/sessions\/[^/]+$/, ['GET', 'DELETE']],
  [/^\/v1\/sessions\/[^/]+\/keepalive$/, ['POST']],
  [/^\/v1\/admin\/[a-z]+$/, ['GET']],
  [/^\/v1\/recipes\/locks\/[^/]+$/, ['GET', 'POST', 'DELETE']],
  [/^\/v1\/recipes\/elections\/[^/]+\/(campaign|resign)$/, ['POST']],
  [/^\/v1\/recipes\/elections\/[^/]+\/leader$/, ['GET']],
  [/^\/v1\/recipes\/queues\/[^/]+$/, ['GET', 'POST']],
  [/^\/v1\/recipes\/queues\/[^/]+\/poll$/, ['POST']],
  [/^\/v1\/watch$/, ['GET']],
];

export interface AppOptions {
  node: ZkNode;
  logger: Logger;
  /** Hooks the watch subsystem and other plugins add (e.g. the WebSocket upgrade, blocking reads). */
  extend?: (app: FastifyInstance, conns: ConnectionRegistry) => Promise<void>;
  blockingRead?: ZnodeRouteOptions['blockingRead'];
  /** True once the server is shutting down: a new request is refused with 503, and every answer closes its connection. */
  isClosing?: () => boolean;
  /** HTTPS (and WSS) on the client port: the PEM files as startServer read them, once, before LMDB opened. */
  tls?: HttpsServerOptions;
}

const SLASH = 0x2f;
const MAX_ZXID = 2n ** 64n - 1n;
const MAX_SAFE_ZXID = BigInt(Number.MAX_SAFE_INTEGER);
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/**
 * A request line may name the whole URL (`GET http://host:port/v1/znodes/a`, as clients behind a forward proxy
 * send it), and a server must accept that form (RFC 9112 §3.2.2). Every route and fast path reads the znode path
 * from req.url, so it is cut down to the path and query here, once, before any of them (WebSocket upgrades too).
 */
function toOriginForm(req: IncomingMessage): void {
  const url = req.url;
  if (url === undefined || url.charCodeAt(0) === SLASH) return;
  const m = ABSOLUTE_FORM.exec(url);
  if (m === null) return;
  const rest = url.slice(m[0].length);
  req.url = rest.startsWith('/') ? rest : `/${rest}`;
}

export async function buildApp(opts: AppOptions): Promise<{ app: FastifyInstance; metrics: NodeMetrics; schemas: LazySchemas }> {
  const { node } = opts;
  const closing = () => opts.isClosing?.() === true;
  // Set once the metrics exist; until then (and at debug level, where every request is logged) all goes to fastify.
  let fastPath: FastPathRecorder | undefined;
  const tlsOptions = opts.tls;
  const { maxPendingPerConnection } = node.cfg;
  const warnThrottled = onceEvery(CONNECTION_WARN_EVERY_MS);
  const conns = new ConnectionRegistry(maxPendingPerConnection, (sock) =>
    warnThrottled(() =>
      node.log.warn(
        { maxPendingPerConnection, remote: sock.remoteAddress },
        `a connection from ${sock.remoteAddress} has more than ${maxPendingPerConnection} requests unanswered (maxPendingPerConnection): it is not read from until at most half are (zkgate_connections_throttled_total counts these)`,
      ),
    ),
  );
  const warnStalled = onceEvery(CONNECTION_WARN_EVERY_MS);
  const stall = {
    ms: node.cfg.httpRequestTimeoutMs,
    onStall: (sock: Socket) => {
      conns.stalled++;
      warnStalled((skipped) =>
        node.log.warn(
          { httpRequestTimeoutMs: node.cfg.httpRequestTimeoutMs, remote: sock.remoteAddress, closedSinceLastWarning: skipped + 1 },
          `closed a connection from ${sock.remoteAddress} that took none of its answers for ${node.cfg.httpRequestTimeoutMs} ms (httpRequestTimeoutMs; zkgate_connections_stalled_total counts these)`,
        ),
      );
    },
  };
  const schemas = new LazySchemas();
  const app = Fastify({
    schemaController: { compilersFactory: { buildValidator: schemas.buildValidator, buildSerializer: schemas.buildSerializer } },
    serverFactory: (handler, o) => {
      const run = (req: IncomingMessage, res: ServerResponse) => {
        if (fastPath === undefined || closing() || !(fastGetData(node, fastPath, req, res) || fastWrite(node, fastPath, req, res))) {
          handler(req, res);
        }
      };
      const listener = (req: IncomingMessage, res: ServerResponse) => {
        conns.throttle.received(req, res);
        toOriginForm(req);
        startInOrder(req, res, run, stall);
      };
      // Node checks the timeouts below on this interval, so a short httpRequestTimeoutMs is checked often enough.
      const serverOptions = {
        requestTimeout: node.cfg.httpRequestTimeoutMs,
        connectionsCheckingInterval: Math.min(30_000, Math.max(50, node.cfg.httpRequestTimeoutMs / 4)),
        ServerResponse: conns.throttle.ServerResponse,
        // Node's own answer to a request without Host is a bare 400; the onRequest hook answers it ZooKeeper-style.
        requireHostHeader: false,
      };
      const server = tlsOptions ? createHttpsServer({ ...tlsOptions, ...serverOptions }, listener) : createServer(serverOptions, listener);
      server.prependListener('upgrade', toOriginForm);
      server.on('connect', answerConnect(node));
      // An Expect other than 100-continue: Node's own answer is a bare 417. HTTP lets a server ignore an expectation
      // it does not know (RFC 9110 §10.1.1), so the request is served like any other.
      server.on('checkExpectation', listener);
      // What fastify sets on a server it creates itself (its lib/server.js) and not on a factory's: without it the
      // server kept Node's 5 s keep-alive instead of fastify's 72 s, and clients met connections closed under them.
      server.keepAliveTimeout = Number(o.keepAliveTimeout ?? 72_000);
      server.setTimeout(Number(o.connectionTimeout ?? 0));
      // Bounded, so that a flood of connections runs into this limit, not into the process's file descriptors (which
      // the peer port and LMDB need too).
      server.maxConnections = httpConnectionLimit(node.cfg);
      const perSocket = Number(o.maxRequestsPerSocket ?? 0);
      if (perSocket > 0) server.maxRequestsPerSocket = perSocket;
      return server;
    },
    loggerInstance: opts.logger,
    // The per-request line (with its request id) only at debug: at info it would cost more than a read.
    logController: new RequestLog({ disableRequestLogging: !opts.logger.isLevelEnabled('debug') }),
    bodyLimit: node.cfg.juteMaxBuffer,
    clientErrorHandler: clientErrorHandler(node),
    // Query flags like ?children are bare keys; keep them as ''.
    routerOptions: { maxParamLength: 4096, ignoreDuplicateSlashes: false, querystringParser: parseQueryString },
    requestIdHeader: 'x-request-id',
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    // URLs the router itself rejects (a malformed %-escape, an overlong path) get a ZooKeeper-style error too.
    frameworkErrors: (err, _req, reply) => {
      reply.header('ZK-Zxid', String(node.responseZxid()));
      return errorReply(reply, new ZkError('BadArguments', err.message));
    },
  }) as unknown as FastifyInstance;

  app.addSchema(StatSchema);
  app.addSchema(ErrorSchema);

  // Before any plugin: fastify gives a plugin the error handlers its parent has when it is registered, and the
  // swagger, docs and CORS plugins' answers must be ZooKeeper-style too.
  app.setErrorHandler(zkErrorHandler(`jute.maxbuffer (${node.cfg.juteMaxBuffer} bytes)`));

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    for (const [re, methods] of ALLOWED) {
      if (re.test(path) && !methods.includes(req.method)) {
        reply.header('Allow', methods.join(', '));
        return errorReply(reply, new ZkError('Unimplemented', `${req.method} is not allowed on ${path}`, { httpStatus: 405 }));
      }
    }
    return errorReply(reply, new ZkError('Unimplemented', `no route ${req.method} ${path}`));
  });

  await app.register(swagger, {
    openapi: openapiInfo(),
    // Fastify's wildcard becomes a documented {path} parameter, which Swagger UI sends percent-encoded whole.
    transform: ({ schema, url, route }) => {
      if (!url.endsWith('/*')) return { schema, url };
      const params = {
        type: 'object',
        properties: {
          path: {
            type: 'string',
            description:
              'the znode path, `app/config` or `/app/config`; `/` for the root (or nothing: `/v1/znodes/`). A `%2F` is read as `/`, as Swagger UI sends it',
            examples: ['app/config'],
          },
        },
        required: ['path'],
      };
      const method = String(route.method);
      // Znode writes take raw bytes (validated by size, not by schema), so their body exists only in the docs.
      const rawBody =
        url.startsWith('/v1/znodes/') && (method === 'POST' || method === 'PUT')
          ? { body: { type: 'string', format: 'binary', description: "the znode's data: raw bytes, any Content-Type", examples: ['hello'] }, consumes: ['application/octet-stream', 'text/plain', '*/*'] }
          : {};
      return { schema: { ...schema, params, ...rawBody }, url: url.slice(0, -1) + '{path}' };
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Hooks are callback-style: on the read path an async hook costs a promise per request.
  // Shutdown: a request arriving now is refused (never proposed, so safe to retry elsewhere); it and any request
  // still being answered get `Connection: close` in onSend, as the fast paths' answers do, so no keep-alive
  // connection holds the stop up. Retry-After comes with the 503 from the error handler.
  app.addHook('onRequest', (req: FastifyRequest, _reply, done) => {
    (req as FastifyRequest & { t0?: bigint }).t0 = process.hrtime.bigint();
    if (closing()) return done(new ZkError('ConnectionLoss', 'server is shutting down', { applied: false }));
    if (req.headers.host === undefined && req.raw.httpVersion === '1.1') return done(new ZkError('MarshallingError', 'an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)'));
    const refused = originRefusal(req.headers, node.cfg.corsAllowOrigins, node.cfg.httpHost);
    if (refused) return done(new ZkError('NoAuth', refused));
    done();
  });
  if (node.cfg.corsAllowOrigins.length > 0) {
    const allowed = {
      origin: node.cfg.corsAllowOrigins.includes('*') ? '*' : node.cfg.corsAllowOrigins,
      methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
      allowedHeaders: CORS_REQUEST_HEADERS,
      exposedHeaders: CORS_RESPONSE_HEADERS,
      maxAge: 600,
    };
    // An OPTIONS that is no preflight (a preflight names a method and an origin) gets the routes' 405 with Allow, as on
    // a server without CORS, not the plugin's plain-text 400.
    await app.register(cors, {
      delegator: (req, cb) => cb(null, req.method === 'OPTIONS' && (!req.headers['access-control-request-method'] || !req.headers.origin) ? { origin: false } : allowed),
    });
  }

  // A session created through another node a moment ago: catch up before requestContext's check (see awaitSession).
  app.addHook('preHandler', (req, _reply, done) => {
    const raw = req.headers['zk-session'];
    let wait: Promise<unknown> | undefined;
    try {
      wait = node.awaitSession(typeof raw === 'string' ? sessionIdOf(raw) : '');
    } catch (e) {
      return done(e as Error);
    }
    if (!wait) return done();
    wait.then(
      () => done(),
      (e: unknown) => done(e as Error),
    );
  });

  // ZK-Min-Zxid: read-your-writes across nodes; bounded wait, then 503.
  app.addHook('preHandler', (req, _reply, done) => {
    const raw = req.headers['zk-min-zxid'];
    if (raw === undefined) return done();
    if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim())) {
      return done(new ZkError('BadArguments', `ZK-Min-Zxid must be a decimal zxid, got ${JSON.stringify(raw)}`));
    }
    const want = BigInt(raw.trim());
    // No zxid is past 64 bits: such a value is a client's mistake, not a wait that can only end in a 503.
    if (want > MAX_ZXID) return done(new ZkError('BadArguments', `ZK-Min-Zxid ${raw.trim()} is beyond a 64-bit zxid`));
    // zkgate's zxids are exact JS numbers (a counter, the Raft index): one past 2^53 was never handed out, and a wait
    // for it would report a rounded value.
    if (want > MAX_SAFE_ZXID) {
      return done(new ZkError('BadArguments', `ZK-Min-Zxid ${raw.trim()} is beyond any zxid this service hands out (at most ${Number.MAX_SAFE_INTEGER})`));
    }
    // A read this node would refuse anyway (cut off from its leader, catching up) is refused now, not after the wait.
    const refusal = req.method === 'GET' || req.method === 'HEAD' ? node.readRefusal() : undefined;
    if (refusal !== undefined) return done(new ZkError('ConnectionLoss', refusal, { applied: false }));
    // Nothing has been proposed yet when this wait gives up, so the request is safe to retry elsewhere.
    node.waitForZxid(Number(want), node.cfg.minZxidWaitMs).then(
      () => done(),
      (e: unknown) => done(e instanceof ZkError ? new ZkError(e.zkName, e.message, { path: e.path, applied: false }) : (e as Error)),
    );
  });

  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('ZK-Zxid', String(node.responseZxid()));
    if (closing()) reply.header('Connection', 'close');
    const t0 = (req as FastifyRequest & { t0?: bigint }).t0;
    // A long-poll's time is mostly its wait: srvr and mntr latency is processing time (metrics.ts isLongPoll).
    if (t0 !== undefined && !isLongPoll(req.method, req.routeOptions?.url, req.query)) node.recordLatency(Number(process.hrtime.bigint() - t0) / 1e6);
    done(null, payload);
  });

  // Before the route plugins, so its response hook reaches every route.
  const metrics = installMetrics(app, node, conns);
  if (!opts.logger.isLevelEnabled('debug')) {
    fastPath = { answered: (sock, op, status, ms, sid) => metrics.answered(sock, op, status, ms, sid), closing };
  }
  await app.register(znodeRoutes, { node, blockingRead: opts.blockingRead });
  await app.register(multiRoutes, { node });
  await app.register(aclRoutes, { node });
  await app.register(sessionRoutes, { node });
  // Admin words and metrics read no znode, but a request carrying ZK-Session still has it checked (410 for an ended
  // one, API.md §4) and touched, as on every other route.
  await app.register(async (open) => {
    open.addHook('preHandler', (req, _reply, done) => {
      try {
        requestSession(req, node);
        done();
      } catch (e) {
        done(e as Error);
      }
    });
    await open.register(adminRoutes, { node, conns });
    await open.register(metricsRoutes, { metrics });
  });
  if (opts.extend) await opts.extend(app, conns);

  let open = 0;
  app.server.on('connection', (sock) => {
    open++;
    sock.once('close', () => open--);
  });
  node.connectionCounter = () => open;
  app.addHook('onListen', (done) => {
    schemas.warmUp((e) => app.log.error({ err: e }, 'a route schema does not compile; its route answers 500 until fixed'));
    done();
  });
  return { app, metrics, schemas };
}
