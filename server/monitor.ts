// The metrics port (zoo.cfg metricsPort): plain HTTP for health checks and scrapers, as ZooKeeper's
// metricsProvider.httpPort and etcd's --listen-metrics-urls. With TLS on the client port, and above all with
// tlsClientAuth=need, a Docker HEALTHCHECK, a kubelet probe or Prometheus could not reach ruok or /metrics there
// without a client certificate. Only what is open on the client port anyway is served (ruok, ready, srvr, mntr, cluster,
// /metrics), GET only, so this port reveals nothing new and changes nothing.
import Fastify, { type FastifyInstance } from 'fastify';
import type { ZkNode } from './node.js';
import { answerConnect } from './raw-error.js';
import { METRICS_PORT_CONNECTIONS } from './file-descriptors.js';
import type { NodeMetrics } from './metrics.js';
import { ZkError, errorReply } from './errors.js';
import { zkErrorHandler } from './error-handler.js';
import { openAdminRoutes } from '../routes/admin.js';
import { metricsRoutes } from '../routes/metrics.js';
import { ErrorSchema } from '../openapi/schemas.js';

/** Largest request body the metrics port reads: it serves GETs only. */
const MAX_BODY_BYTES = 1024;

/** Starts the metrics listener on cfg.metricsPort (metricsHost, else the client port's address). */
export async function startMonitor(node: ZkNode, metrics: NodeMetrics): Promise<FastifyInstance> {
  const { cfg } = node;
  // Small bounds: these answers are a few KB, and nobody uploads to a health port.
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, connectionTimeout: 10_000, requestTimeout: 10_000 });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    return errorReply(reply, new ZkError('Unimplemented', `no route ${req.method} ${path} on the metrics port (it serves GET /v1/admin/ruok, ready, srvr, mntr, cluster and /metrics)`));
  });
  // The same answers as on the client port (operations.md §6): a 503 from `ready` is ConnectionLoss with Retry-After,
  // and every answer carries ZK-Zxid; fastify's own error shape would tell a probe something else.
  app.setErrorHandler(zkErrorHandler(`the metrics port's bound (${MAX_BODY_BYTES} bytes)`));
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('ZK-Zxid', String(node.responseZxid()));
    done(null, payload);
  });
  // A scraper and a health checker or two: a flood here must not take the descriptors the client port needs.
  app.server.maxConnections = METRICS_PORT_CONNECTIONS;
  app.server.on('connect', answerConnect(node));
  app.addSchema(ErrorSchema);
  await app.register(openAdminRoutes, { node });
  await app.register(metricsRoutes, { metrics });
  await app.listen({ host: cfg.metricsHost ?? cfg.httpHost, port: cfg.metricsPort });
  return app;
}
