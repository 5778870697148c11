// Starting and stopping a whole node: config → store → HTTP, and the graceful SIGTERM path (API.md §8).
import net from 'node:net';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { clientUrl, configuredConnectionLimit, httpConnectionLimit, readServerFiles, urlHost, type Config } from './config.js';
import { ConfigError } from './config-values.js';
import { DataDirInUse, lockDataDir } from '../storage/data-dir-lock.js';
import { ZkNode } from './node.js';
import { RaftEngine } from './quorum/engine.js';
import { raftClusterSource } from './quorum/cluster-source.js';
import { setClusterSource } from './cluster-info.js';
import { buildApp } from './app.js';
import type { LazySchemas } from './lazy-schemas.js';
import { startMonitor } from './monitor.js';
import { TlsReloader } from './tls-reload.js';
import { AuditLog } from './audit.js';
import { join } from 'node:path';
import { certNotAfter } from './tls.js';
import type { Server as HttpsServer } from 'node:https';
import { WatchHub } from './watches/hub.js';
import { installWatchRoutes } from '../routes/watch.js';
import { watchAdminRoutes } from '../routes/watch-admin.js';
import { blockingReadVia } from '../routes/watch-blocking.js';
import { recipeRoutes } from '../routes/recipes.js';
import type { WatchConnection } from '../routes/watch-connection.js';
import { StartupTrace, type StartupStep } from './startup-trace.js';
import { stdoutDestination } from './log-destination.js';
import { startLimit } from './file-descriptors.js';

export interface RunningServer {
  node: ZkNode;
  app: FastifyInstance;
  /** The routes' validators and serializers, compiled on first use or by the warm-up after listen (lazy-schemas.ts). */
  schemas: LazySchemas;
  url: string;
  port: number;
  /** Stop accepting, finish in-flight writes, flush and close LMDB. */
  close(): Promise<void>;
  /** Reads the TLS PEM files again now (SIGHUP); true when new certificates took over. */
  reloadTls(reason: string): boolean;
  /** Whether any TLS PEM files are configured, so that there is something to reload. */
  readonly hasTls: boolean;
}

export function makeLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, stdoutDestination());
}

/** How long a stopping server goes on reading requests on open keep-alive connections before closing the idle ones. */
const SHUTDOWN_QUIET_MS = 100;

export async function startServer(cfg: Config, log: Logger = makeLogger(cfg.logLevel)): Promise<RunningServer> {
  const trace = new StartupTrace(log);
  log.info({ dataDir: cfg.dataDir, myid: cfg.servers.length > 0 ? cfg.myid : undefined, node: process.version, nodeFlags: process.execArgv }, 'zkgate starting');
  try {
    return await start(cfg, log, trace.at);
  } finally {
    trace.done();
  }
}

async function start(cfg: Config, log: Logger, step: StartupStep): Promise<RunningServer> {
  step('reading the TLS and secret files');
  const tls = readServerFiles(cfg);
  // Before anything in the dataDir is opened, the audit log included.
  const lock = takeDataDir(cfg.dataDir);
  const auditFile = cfg.auditLogFile ?? join(cfg.dataDir, 'audit.log');
  const audit = cfg.auditEnable ? new AuditLog(auditFile, (e) => log.error({ err: e.message, file: auditFile }, `audit log: ${e.message}`)) : undefined;
  let raft: RaftEngine | undefined;
  step(`opening the store in ${cfg.dataDir}`);
  const node = new ZkNode(
    cfg,
    log,
    cfg.servers.length > 0 ? (store, hooks) => (raft = new RaftEngine(store, cfg, hooks, log)) : undefined,
  );
  node.audit = audit;
  if (raft) setClusterSource(node, raftClusterSource(cfg, raft));
  try {
    await node.start(step);
  } catch (e) {
    // A start refused (a hole in the write-ahead log, a bad myid…) must not leave LMDB open in this process.
    await node.store.close().catch(() => {});
    await audit?.close();
    lock.release();
    throw e;
  }
  let closing = false;
  // Subscribed before anything can commit, so no change goes unseen by watches.
  const hub = new WatchHub<WatchConnection>(node);
  step('building the HTTP routes');
  const { app, metrics, schemas } = await buildApp({
    node,
    logger: log,
    isClosing: () => closing,
    tls,
    blockingRead: blockingReadVia(node, hub),
    extend: async (a, conns) => {
      const ws = await installWatchRoutes(a, node, hub, conns);
      await a.register(watchAdminRoutes, { node, hub, connections: ws.connections });
      await a.register(recipeRoutes, { node, blocking: hub.blocking });
    },
  });
  step(`binding the HTTP port ${cfg.httpHost}:${cfg.httpPort}`);
  await app.listen({ host: cfg.httpHost, port: cfg.httpPort });
  let monitor: FastifyInstance | undefined;
  try {
    if (cfg.metricsPort !== undefined) {
      step(`binding the metrics port ${cfg.metricsHost ?? cfg.httpHost}:${cfg.metricsPort}`);
      monitor = await startMonitor(node, metrics);
    }
  } catch (e) {
    await app.close();
    await node.stop();
    await audit?.close();
    lock.release();
    throw e;
  }
  node.tlsNotAfter.client = certNotAfter(tls?.cert as Buffer | undefined);
  node.tlsNotAfter.peer = certNotAfter(cfg.peerTls?.cert);
  const reloader = new TlsReloader(cfg, log, {
    client: tls
      ? (o) => {
          (app.server as HttpsServer).setSecureContext(o);
          node.tlsNotAfter.client = certNotAfter(o.cert as Buffer);
        }
      : undefined,
    peer:
      cfg.peerTls && raft
        ? (t) => {
            raft?.peers.setTls(t);
            node.tlsNotAfter.peer = certNotAfter(t.cert);
          }
        : undefined,
  }, { client: tls, peer: cfg.peerTls });
  // Sessions restored from disk get their full timeout from the moment clients can reach us again.
  node.sessions.renewAll();
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.httpPort;
  const url = clientUrl(cfg, cfg.httpHost, port);
  const metricsHost = urlHost(cfg.metricsHost ?? cfg.httpHost);
  audit?.serverStart();
  const [wanted, allowed, files] = [configuredConnectionLimit(cfg), httpConnectionLimit(cfg), startLimit()];
  if (allowed < wanted) {
    log.warn({ maxCnxns: wanted, allowed, openFilesLimit: files }, `the HTTP port takes ${allowed} connections, not ${wanted}: the process may open only ${files} files (ulimit -n), and the node keeps some for itself; raise the limit (LimitNOFILE=, ulimit -n) to allow more`);
  }
  log.info({ url, mode: node.mode, ...(monitor && { metricsUrl: `http://${metricsHost}:${cfg.metricsPort}` }) }, 'zkgate serving');
  // A zoo.cfg brought over from ZooKeeper keeps its clientPort, and its users' native clients would find nothing there.
  if (cfg.clientPort !== undefined) {
    log.warn({ clientPort: cfg.clientPort, url }, `clientPort ${cfg.clientPort} (ZooKeeper's wire protocol) is not served: clients reach this node over HTTP at ${url}`);
  }
  let closed: Promise<void> | undefined;
  return {
    node,
    app,
    schemas,
    port,
    url,
    hasTls: tls !== undefined || cfg.peerTls !== undefined,
    reloadTls: (reason) => reloader.check(reason, true),
    close() {
      closed ??= (async () => {
        closing = true;
        reloader.stop();
        // New connections are refused from now (a refused connect was plainly never processed), but an open keep-alive
        // connection is not cut at once: a request its client is sending on it right now would become a reset, whose
        // outcome the client cannot know. For SHUTDOWN_QUIET_MS requests are still read and answered, each answer
        // closing its connection (a new request gets 503 with applied:false, safe to retry); then the connections
        // that stayed idle are closed. Node's http close() would close them at once, so the listener is closed
        // through net.Server's own close; its callback comes once every connection has ended.
        const ended = new Promise<void>((r) => net.Server.prototype.close.call(app.server, () => r()));
        const open = await new Promise<number>((r) => app.server.getConnections((e, n) => r(e ? 0 : n)));
        if (open > 0) await new Promise((r) => setTimeout(r, SHUTDOWN_QUIET_MS));
        app.server.closeIdleConnections?.();
        await Promise.race([Promise.all([app.close(), ended, monitor?.close()]), new Promise((r) => setTimeout(r, 5000).unref())]);
        await node.stop();
        await audit?.close();
        lock.release();
      })();
      return closed;
    },
  };
}

/** Two servers on one dataDir would corrupt it (storage/data-dir-lock.ts): refused at start, naming the other's pid; so is a dataDir that cannot be made or written. */
function takeDataDir(dataDir: string): { release(): void } {
  try {
    return lockDataDir(dataDir);
  } catch (e) {
    if (e instanceof DataDirInUse) throw new ConfigError('dataDir', e.message);
    // A path that cannot be made or written (a file, no permission, a read-only or pseudo file system): exit 2
    // naming the key, not a stack trace.
    throw new ConfigError('dataDir', `dataDir: cannot use ${dataDir}: ${(e as Error).message}`);
  }
}
