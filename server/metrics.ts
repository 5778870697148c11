// Prometheus metrics of one node (API.md §8): request counts and latencies recorded by a response hook,
// gauges read from the node when scraped, the store's fsync times, and Node's default process metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import type { ZkNode } from './node.js';
import type { ConnectionRegistry } from './connections.js';
import { clusterInfo, electionsTotal, pendingSyncs } from './cluster-info.js';
import { HotCounter2, HotHistogram } from './hot-metrics.js';
import { httpConnectionLimit } from './config.js';
import { logLinesDropped } from './log-destination.js';
import { CONNECTION_WARN_EVERY_MS, onceEvery } from './once-every.js';

const ROLES = ['standalone', 'leader', 'follower', 'observer', 'looking'] as const;

// Process metrics are per process, not per node: one registry however many nodes a process runs (tests do).
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Whether a request is a long-poll: a blocking read or recipe wait (`?wait`), or a lock or campaign (which wait up to
 * recipeMaxWaitMs by default). Its time is mostly waiting for someone else's write, so it is counted but not timed:
 * ZooKeeper's latency (srvr, mntr, the duration histogram) is processing time, and one 300 s wait would be the max.
 */
export function isLongPoll(method: string, routeUrl: string | undefined, query: unknown): boolean {
  if ((query as Record<string, unknown> | undefined)?.wait !== undefined) return true;
  return method === 'POST' && (routeUrl === '/v1/recipes/locks/:name' || routeUrl === '/v1/recipes/elections/:name/campaign');
}

/** The ZooKeeper-style op name of a request, from its route pattern; a fixed set, so labels stay bounded. */
export function opOf(method: string, routeUrl: string | undefined, query: unknown): string {
  switch (routeUrl) {
    case '/v1/znodes/*': {
      if (method === 'GET') {
        const q = query as Record<string, string | undefined>;
        return q.children !== undefined ? 'getChildren' : q.stat !== undefined ? 'exists' : 'getData';
      }
      return method === 'HEAD' ? 'exists' : method === 'POST' ? 'create' : method === 'PUT' ? 'setData' : 'delete';
    }
    case '/v1/acl/*':
      return method === 'GET' ? 'getACL' : 'setACL';
    case '/v1/multi':
      return 'multi';
    case '/v1/sync':
      return 'sync';
    case '/v1/sessions':
      return 'createSession';
    case '/v1/sessions/:id':
      return method === 'GET' ? 'getSession' : 'closeSession';
    case '/v1/sessions/:id/keepalive':
      return 'ping';
    case '/v1/watch':
      return 'watch';
    case '/metrics':
      return 'metrics';
    case undefined:
      return 'unknown';
    default:
      return routeUrl.startsWith('/v1/admin/') ? 'admin' : routeUrl.startsWith('/v1/recipes/') ? 'recipe' : 'other';
  }
}

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly requests = new HotCounter2('zkgate_requests_total', 'Requests answered, by ZooKeeper op and HTTP status', ['op', 'code']);
  private readonly duration = new HotHistogram(
    'zkgate_request_duration_seconds',
    'Time from receiving a request to sending its response, by op',
    'op',
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  private readonly durationByOp = new Map<string, ReturnType<HotHistogram['child']>>();
  readonly fsync: Histogram;

  constructor(
    node: ZkNode,
    private readonly conns: ConnectionRegistry,
  ) {
    const register = [this.registry];
    this.fsync = new Histogram({
      name: 'zkgate_fsync_duration_seconds',
      help: 'Time of one durable write, one per group commit: a synchronous (O_DSYNC) write-ahead-log write (standalone) or an fsync\'d LMDB transaction (ensemble)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: register,
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: register,
        collect() {
          this.set(read());
        },
      });
    // A count the node keeps itself, read at scrape time.
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: register,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    gauge('zkgate_znodes', 'Znodes in the tree', () => node.store.counters().znodes);
    gauge('zkgate_data_bytes', 'Bytes of znode data in the tree', () => node.store.counters().dataBytes);
    gauge('zkgate_sessions', 'Live sessions', () => node.sessions.size);
    gauge('zkgate_watches', 'Registered watches', () => node.watchCount());
    gauge('zkgate_ws_connections', 'Open WebSocket connections', () => conns.wsCount);
    gauge('zkgate_term', 'Current consensus term (0 standalone)', () => clusterInfo(node).term);
    gauge('zkgate_commit_index', 'Highest zxid known committed', () => Number(clusterInfo(node).commitZxid));
    gauge('zkgate_applied_index', 'Highest zxid applied by this node', () => node.appliedZxid);
    gauge('zkgate_pending_read_index', 'Linearizable reads and syncs on this node waiting for a read index from the leader (bound 4096)', () => pendingSyncs(node));
    gauge('zkgate_read_cache_entries', 'getData answers held by the fast read path (bound 10000)', () => node.store.readCache.size);
    gauge('zkgate_read_cache_bytes', 'Bytes of getData answers held by the fast read path (bound 16 MiB)', () => node.store.readCache.byteSize);
    new Gauge({
      name: 'zkgate_role',
      help: '1 for the role this node has now, 0 for the others',
      labelNames: ['role'],
      registers: register,
      collect() {
        const mode = node.mode;
        for (const r of ROLES) this.labels(r).set(r === mode ? 1 : 0);
      },
    });
    new Gauge({
      name: 'zkgate_follower_lag_entries',
      help: 'Log entries a peer is behind the leader (reported by the leader)',
      labelNames: ['peer'],
      registers: register,
      collect() {
        this.reset();
        for (const m of clusterInfo(node).members) this.labels(String(m.id)).set(m.lagEntries);
      },
    });
    new Gauge({
      name: 'zkgate_tls_certificate_not_after_seconds',
      help: 'When the certificate in use expires (Unix time), by port: client (HTTPS) and peer (peer TLS); absent without TLS. Alert well before it',
      labelNames: ['port'],
      registers: register,
      collect() {
        this.reset();
        for (const [port, t] of Object.entries(node.tlsNotAfter)) if (t !== undefined) this.labels(port).set(t);
      },
    });
    counter('zkgate_audit_entries_lost_total', 'Audit log entries not written: the file failed, or fell 16 MiB behind (audit.enable)', () => node.audit?.lost ?? 0);
    counter('zkgate_connections_dropped_total', 'Connections to the HTTP port closed on arrival because maxCnxns were open', () => conns.dropped);
    counter('zkgate_connections_stalled_total', 'HTTP connections closed because they took none of their answers\' bytes for httpRequestTimeoutMs', () => conns.stalled);
    counter('zkgate_connections_throttled_total', 'Times an HTTP connection had more than maxPendingPerConnection requests unanswered and was no longer read from until at most half were', () => conns.throttle.throttled);
    counter('zkgate_client_connections_refused_total', 'Connections to the HTTP port closed on arrival because their client address had maxClientCnxns open', () => conns.refusedPerAddress);
    counter('zkgate_log_lines_dropped_total', 'Log lines not written to stdout: the pipe stayed full for 1 s, or its reader is gone (then every later line)', logLinesDropped);
    counter('zkgate_elections_total', 'Elections this node has stood in (as a pre-candidate or candidate) since it started; votes it gave are not counted', () => electionsTotal(node));
    counter('zkgate_stalls_total', 'Times this node found it had not run (stopped, paused, its event loop held up); each time is left out of every session\'s and WebSocket\'s silence', () => node.awake.stalls);
    counter('zkgate_stalled_seconds_total', 'Time those stalls took, in all', () => node.awake.stalledMs / 1000);
  }

  /** Records one answered request: map lookups and number updates, no allocation once the op has been seen. */
  observe(op: string, status: number, seconds: number): void {
    this.requests.inc(op, status);
    let h = this.durationByOp.get(op);
    if (!h) {
      h = this.duration.child(op);
      this.durationByOp.set(op, h);
    }
    this.duration.observe(h, seconds);
  }

  /** One answered request, in the request metrics and in its connection's stats (`cons`); `ms` undefined: not timed. */
  answered(sock: Socket, op: string, status: number, ms: number | undefined, sessionId: string | undefined): void {
    if (ms === undefined) this.requests.inc(op, status);
    else this.observe(op, status, ms / 1000);
    this.conns.record(sock, op, ms, sessionId);
  }

  async text(): Promise<string> {
    return this.requests.render() + this.duration.render() + (await this.registry.metrics()) + (await processMetrics().metrics());
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Wires metrics and connection stats into the root app (not an encapsulated plugin, so the hook sees
 * every route), and the store's durable-write timer into the fsync histogram.
 */
export function installMetrics(app: FastifyInstance, node: ZkNode, conns: ConnectionRegistry): NodeMetrics {
  const metrics = new NodeMetrics(node, conns);
  const warnRefused = onceEvery(CONNECTION_WARN_EVERY_MS);
  const warnDropped = onceEvery(CONNECTION_WARN_EVERY_MS);
  const { maxClientCnxns } = node.cfg;
  const maxCnxns = httpConnectionLimit(node.cfg);
  conns.attach(app.server, {
    maxPerAddress: maxClientCnxns,
    onRefused: (address) =>
      warnRefused(() =>
        node.log.warn({ maxClientCnxns, remote: address }, `too many connections from ${address}: max is ${maxClientCnxns} (maxClientCnxns); new ones are closed on arrival (zkgate_client_connections_refused_total counts them)`),
      ),
    onDropped: (address) =>
      warnDropped(() =>
        node.log.warn({ maxCnxns, remote: address }, `the HTTP port has maxCnxns (${maxCnxns}) connections open: new ones are closed on arrival (zkgate_connections_dropped_total counts them)`),
      ),
  });
  node.store.durableWriteObserver = (seconds) => metrics.fsync.observe(seconds);
  if (node.engine.wal) node.engine.wal.flushObserver = (seconds) => metrics.fsync.observe(seconds);
  app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const op = opOf(req.method, req.routeOptions.url, req.query);
    const session = req.headers['zk-session'];
    const ms = isLongPoll(req.method, req.routeOptions.url, req.query) ? undefined : reply.elapsedTime;
    metrics.answered(req.raw.socket, op, reply.statusCode, ms, typeof session === 'string' ? session : undefined);
    done();
  });
  return metrics;
}
