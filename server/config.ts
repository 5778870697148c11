// Every setting and limit in one place: defaults, and what the server derives from them (TLS settings, connection
// bounds, session timeouts, URLs). server/zoo-cfg.ts reads them from zoo.cfg.
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-values.js';
import { peerTlsMaterial, tlsServerOptions, type PeerTls, type PeerTlsFiles, type TlsSettings } from './tls.js';
import type { TlsProtocol } from './tls-policy.js';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { ServerLine } from './ensemble-config.js';
import { connectionsWithinFds, METRICS_PORT_CONNECTIONS, startLimit } from './file-descriptors.js';

export interface Config {
  tickTime: number;
  dataDir: string;
  httpHost: string;
  httpPort: number;
  /**
   * A second, plain-HTTP listener for health checks and scrapers (server/monitor.ts): ruok, srvr, mntr, cluster and
   * /metrics only. Off unless set. ZooKeeper's metricsProvider.httpPort, etcd's --listen-metrics-urls.
   */
  metricsPort?: number;
  /** Its address; the client port's (httpHost) unless set. */
  metricsHost?: string;
  clientPort?: number;
  initLimit: number;
  syncLimit: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  /** jute.maxbuffer: the largest znode data and the largest request body, in bytes. */
  juteMaxBuffer: number;
  snapCount: number;
  servers: ServerLine[];
  myid?: number;
  ensembleSecret?: string;
  /** Where the secret is when zoo.cfg names a file: read by the server at start (readServerFiles), not by clients. */
  ensembleSecretFile?: string;
  /** `user:base64(sha1(user:password))`; requests authenticated as that digest user skip ACL checks. */
  superDigest?: string;
  /** Web page origins whose browser requests are served (CORS), besides this server's own; `*` is any (server/origins.ts). */
  corsAllowOrigins: string[];
  /** HTTPS on the client port when both are set (server/tls.ts); paths as given, relative to zoo.cfg's folder. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Client certificates signed by it authenticate as x509:<subject DN>. */
  tlsClientCaFile?: string;
  /** `need` (default): a client without a certificate from tlsClientCaFile is refused; `want`: it is served unauthenticated. */
  tlsClientAuth: 'need' | 'want';
  /** A client certificate with this subject DN (RFC 2253, as x509 ACL ids) is the super user, as superDigest's user is. */
  x509SuperUser?: string;
  /** TLS versions and cipher suites the client port accepts (server/tls-policy.ts); unset, Node's defaults. */
  tlsProtocols?: TlsProtocol[];
  tlsCiphers?: string;
  /** Mutual TLS between ensemble peers when all three are set (server/tls.ts); paths relative to zoo.cfg's folder. */
  peerTlsCertFile?: string;
  peerTlsKeyFile?: string;
  peerTlsCaFile?: string;
  /** TLS versions and cipher suites of the peer links, both ways; unset, Node's defaults. */
  peerTlsProtocols?: TlsProtocol[];
  peerTlsCiphers?: string;
  /**
   * A peer's certificate must also name the host its server.N line gives (a DNS name or IP address in its
   * subjectAltName), checked by the dialer and the acceptor alike (ZooKeeper's ssl.quorum.hostnameVerification).
   * Unset: off, unless ZooKeeper's sslQuorum keys turned peer TLS on (ZooKeeper's default is on).
   */
  peerTlsVerifyHostname?: boolean;
  /** Those files' contents, read by readServerFiles at start (never shown by /v1/admin/conf). */
  peerTls?: PeerTls;
  containerCheckIntervalMs: number;
  containerMaxPerMinute: number;
  containerMaxNeverUsedIntervalMs: number;
  /** Writes waiting for the write loop; past it a write is 503 ConnectionLoss with applied:false. */
  maxPendingWrites: number;
  /** Requests one HTTP connection may have read and not yet answered before it is no longer read from (0: no bound). */
  maxPendingPerConnection: number;
  /** Transactions per LMDB commit (one fsync). */
  maxBatchTxns: number;
  /** Bytes of znode data per LMDB commit. */
  maxBatchBytes: number;
  /** Live sessions; past it session creation is 503. */
  maxSessions: number;
  /** ZooKeeper's audit.enable: one JSON line per state-changing request in auditLogFile (server/audit.ts). */
  auditEnable: boolean;
  /** Where the audit log goes; unset: audit.log in the dataDir. */
  auditLogFile?: string;
  /**
   * Open connections on the HTTP port, WebSockets included (ZooKeeper's maxCnxns); past it a new connection is
   * closed at once. Unset: wsMaxConnections + 10,000 (see httpConnectionLimit).
   */
  maxCnxns?: number;
  /** Longest a ZK-Min-Zxid request waits for this node to catch up before 503. */
  minZxidWaitMs: number;
  /**
   * ZooKeeper's readonlymode.enabled: an ensemble member cut off from its leader for longer than syncLimit × tickTime
   * goes on serving reads from its (ageing) tree. Off by default: such a member refuses them, so a client's view is
   * never out of date by more than that bound without the client knowing (ZooKeeper's timeliness guarantee).
   */
  readOnlyMode: boolean;
  /**
   * Longest a client may take to send one whole request (headers and body); past it 408 and the connection closes.
   * Without it a client sending a body a byte at a time would hold its connection for ever.
   */
  httpRequestTimeoutMs: number;
  // ---- watches (API.md §5) and blocking reads ----
  /** Open WebSockets on /v1/watch; past it an upgrade is 503 ConnectionLoss. */
  wsMaxConnections: number;
  /**
   * Open connections on the HTTP port from one client address, WebSockets included (ZooKeeper's maxClientCnxns;
   * 0: no bound). Past it a new connection is closed on arrival.
   */
  maxClientCnxns: number;
  /** Open WebSockets from one client address (as ZooKeeper's maxClientCnxns default, 60); past it 503. */
  wsMaxConnectionsPerIp: number;
  /** Watches one connection may hold (each path × kind counts one); past it a watch is BadArguments. */
  wsMaxWatchesPerConnection: number;
  /** Largest frame a client may send; a larger one closes the connection with 1009. */
  wsMaxFrameBytes: number;
  /** Bytes queued for a connection that reads too slowly; past it the connection is closed with 1008. */
  wsMaxBufferedBytes: number;
  /** Bytes of resume frames (more:true) one connection may hold until the frame that completes them; past it BadArguments. */
  wsMaxResumeBytes: number;
  /**
   * Bytes of the one reply to a resume batch (every watch's state, data or children included); a batch whose reply
   * would be larger is refused with BadArguments and none of its watches armed. One watch's reply alone may be larger.
   */
  wsMaxReplyBytes: number;
  /** Latest events a connection remembers having received, so a watch resumed on it does not send them again. */
  wsMaxRememberedEvents: number;
  /** Ping interval of a connection not bound to a session (bound ones are pinged every third of the session timeout). */
  wsPingIntervalMs: number;
  /** How long a closing connection (1008 slow consumer, 1001 shutdown) may take before it is cut. */
  wsCloseGraceMs: number;
  /** Recent watch triggers kept to replay persistent watches resumed with sinceZxid; older gaps get a resync frame. */
  watchHistoryMaxEvents: number;
  /** Cap on ?wait of a blocking read. */
  blockingReadMaxWaitMs: number;
  /** Blocking reads waiting at once; past it a blocking read is 503. */
  maxBlockingReads: number;
  /** Cap (and default) of ?wait on the recipe endpoints (lock, campaign, queue poll). */
  recipeMaxWaitMs: number;
  /** Requests waiting at once on one lock, election or queue name on this node; past it 503 ConnectionLoss (applied:false). */
  recipeMaxWaitersPerName: number;
  /** Entries an admin listing (cons, stat clients, dump sessions) returns at most; the rest is reported as truncated. */
  adminListLimit: number;
  /** Longest a snapshot download (/v1/admin/snapshot) may take before it is aborted and its temp file removed. */
  snapshotTimeoutMs: number;
  logLevel: string;
  /** Consensus clock: one Raft tick. Elections time out after electionTicks..2×electionTicks ticks. */
  raftTickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Largest frame a peer may send (entries are bounded by jute.maxbuffer; snapshot chunks by 1 MiB). */
  peerMaxFrameBytes: number;
  /** Bytes queued to one peer before messages to it are dropped (Raft retransmits). */
  peerMaxQueueBytes: number;
  /** A write not applied within this is 503 ConnectionLoss (outcome unknown). */
  proposalTimeoutMs: number;
  /** How long a write waits for a leader to be known before 503 with applied:false. */
  leaderWaitMs: number;
  /** Log entries kept behind the applied index after compaction, so a lagging peer can catch up from the log. */
  logRetainEntries: number;
  /** Keys from zoo.cfg we do not know: reported as warnings. */
  unknownKeys: string[];
}

/**
 * maxClientCnxns when zoo.cfg does not set it: no bound. ZooKeeper's default of 60 counts native clients, which hold
 * one connection per session; an HTTP client opens a connection per request in flight (fetch with 500 requests at
 * once opens 500), and a proxy brings many clients from one address, so 60 (or Consul's 200) would refuse ordinary
 * clients. maxCnxns bounds the total; wsMaxConnectionsPerIp bounds one address's WebSockets.
 */
export const DEFAULT_MAX_CLIENT_CNXNS = 0;

export function defaultConfig(): Config {
  const tickTime = 2000;
  return {
    tickTime,
    dataDir: './data',
    httpHost: '127.0.0.1',
    httpPort: 8080,
    initLimit: 10,
    syncLimit: 5,
    minSessionTimeout: 2 * tickTime,
    maxSessionTimeout: 20 * tickTime,
    juteMaxBuffer: 1048575,
    snapCount: 100000,
    servers: [],
    corsAllowOrigins: [],
    tlsClientAuth: 'need',
    containerCheckIntervalMs: 60000,
    containerMaxPerMinute: 10000,
    containerMaxNeverUsedIntervalMs: 0,
    maxPendingWrites: 10000,
    maxPendingPerConnection: 1000,
    maxBatchTxns: 1000,
    maxBatchBytes: 16 * 1024 * 1024,
    maxSessions: 100000,
    auditEnable: false,
    minZxidWaitMs: 5000,
    readOnlyMode: false,
    httpRequestTimeoutMs: 120_000,
    wsMaxConnections: 10000,
    maxClientCnxns: DEFAULT_MAX_CLIENT_CNXNS,
    wsMaxConnectionsPerIp: 60,
    wsMaxWatchesPerConnection: 10000,
    wsMaxFrameBytes: 16 * 1024,
    wsMaxBufferedBytes: 1024 * 1024,
    wsMaxResumeBytes: 1024 * 1024,
    wsMaxReplyBytes: 16 * 1024 * 1024,
    wsMaxRememberedEvents: 1024,
    wsPingIntervalMs: 30000,
    wsCloseGraceMs: 2000,
    watchHistoryMaxEvents: 10000,
    blockingReadMaxWaitMs: 300000,
    maxBlockingReads: 10000,
    recipeMaxWaitMs: 300000,
    recipeMaxWaitersPerName: 1000,
    adminListLimit: 10000,
    snapshotTimeoutMs: 600000,
    logLevel: 'info',
    raftTickMs: 50,
    electionTicks: 10,
    heartbeatTicks: 1,
    peerMaxFrameBytes: 8 * 1024 * 1024,
    peerMaxQueueBytes: 64 * 1024 * 1024,
    proposalTimeoutMs: 5000,
    leaderWaitMs: 3000,
    logRetainEntries: 5000,
    unknownKeys: [],
  };
}

/**
 * syncLimit × tickTime: how long a member may go without its leader, as ZooKeeper measures it. The leader counts a
 * follower synced within it; a member without a leader for longer serves no reads, and catches up before it does again.
 */
export function syncWindowMs(cfg: Pick<Config, 'syncLimit' | 'tickTime'>): number {
  return cfg.syncLimit * cfg.tickTime;
}

/**
 * What only the server reads, at start before anything opens: the ensemble secret's file (into cfg.ensembleSecret)
 * and the TLS PEM files. Client commands that load the same zoo.cfg (`zkgate status --config`) need neither, and the
 * operator running them may not be allowed to read them. A missing, empty or bad file is a ConfigError naming its key.
 */
export function readServerFiles(cfg: Config): HttpsServerOptions | undefined {
  const file = cfg.ensembleSecretFile;
  if (file !== undefined) {
    let secret: string;
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(e as Error).message}`;
      throw new ConfigError('ensembleSecretFile', `ensembleSecretFile: ${file} ${why}`);
    }
    if (secret === '') throw new ConfigError('ensembleSecretFile', `ensembleSecretFile: ${file} is empty`);
    cfg.ensembleSecret = secret;
  }
  const peer = peerTlsFiles(cfg);
  if (peer) cfg.peerTls = peerTlsMaterial(peer);
  const tls = tlsSettings(cfg);
  return tls && tlsServerOptions(tls);
}

/** The peer channel's TLS files: all three keys or none, since each side must both show and check a certificate. */
export function peerTlsFiles(cfg: Config): PeerTlsFiles | undefined {
  const { peerTlsCertFile: certFile, peerTlsKeyFile: keyFile, peerTlsCaFile: caFile } = cfg;
  if (certFile === undefined && keyFile === undefined && caFile === undefined) {
    for (const k of ['peerTlsProtocols', 'peerTlsCiphers', 'peerTlsVerifyHostname'] as const) {
      if (cfg[k] !== undefined) throw new ConfigError(k, `${k} needs peerTlsCertFile, peerTlsKeyFile and peerTlsCaFile: the peer links are not TLS without them`);
    }
    return undefined;
  }
  for (const [k, v] of [['peerTlsCertFile', certFile], ['peerTlsKeyFile', keyFile], ['peerTlsCaFile', caFile]] as const) {
    if (v === undefined) throw new ConfigError(k, `${k} is missing: peer TLS needs peerTlsCertFile, peerTlsKeyFile and peerTlsCaFile (each peer shows its certificate and checks the other's)`);
  }
  return { certFile: certFile as string, keyFile: keyFile as string, caFile: caFile as string, policy: { protocols: cfg.peerTlsProtocols, ciphers: cfg.peerTlsCiphers } };
}

/** Room for this many plain HTTP connections besides the WebSockets when maxCnxns is not set. */
const HTTP_CONNECTIONS_BESIDES_WEBSOCKETS = 10_000;

/**
 * The HTTP port's bound on open connections: maxCnxns, else every WebSocket allowed plus room for HTTP clients; and
 * within the process's file descriptors either way, less what the node itself needs (connectionsWithinFds).
 */
export function httpConnectionLimit(cfg: Config): number {
  // The metrics port's connections are counted against the same descriptors.
  return connectionsWithinFds(configuredConnectionLimit(cfg), startLimit(), cfg.metricsPort === undefined ? 0 : METRICS_PORT_CONNECTIONS);
}

/** The bound as configured (maxCnxns or its default), before the file descriptors are counted. */
export function configuredConnectionLimit(cfg: Config): number {
  return cfg.maxCnxns ?? cfg.wsMaxConnections + HTTP_CONNECTIONS_BESIDES_WEBSOCKETS;
}

/** The client port's TLS, when configured: both tlsCertFile and tlsKeyFile, or neither. */
export function tlsSettings(cfg: Config): TlsSettings | undefined {
  const { tlsCertFile: certFile, tlsKeyFile: keyFile, tlsClientCaFile: clientCaFile } = cfg;
  if (certFile === undefined && keyFile === undefined) {
    if (clientCaFile !== undefined) throw new ConfigError('tlsClientCaFile', 'tlsClientCaFile needs tlsCertFile and tlsKeyFile (client certificates are a TLS feature)');
    for (const k of ['tlsProtocols', 'tlsCiphers'] as const) {
      if (cfg[k] !== undefined) throw new ConfigError(k, `${k} needs tlsCertFile and tlsKeyFile: the client port speaks plain HTTP without them`);
    }
    if (cfg.x509SuperUser !== undefined) throw new ConfigError('x509SuperUser', 'x509SuperUser needs tlsCertFile, tlsKeyFile and tlsClientCaFile (a client certificate names it)');
    return undefined;
  }
  if (certFile === undefined) throw new ConfigError('tlsCertFile', 'tlsKeyFile is set but tlsCertFile is not: HTTPS needs both');
  if (keyFile === undefined) throw new ConfigError('tlsKeyFile', 'tlsCertFile is set but tlsKeyFile is not: HTTPS needs both');
  if (cfg.x509SuperUser !== undefined && clientCaFile === undefined) {
    throw new ConfigError('x509SuperUser', 'x509SuperUser needs tlsClientCaFile: only a certificate that CA signed can name it');
  }
  return { certFile, keyFile, clientCaFile, clientAuth: cfg.tlsClientAuth, policy: { protocols: cfg.tlsProtocols, ciphers: cfg.tlsCiphers } };
}

/** Clamps a requested session timeout into [min, max] as ZooKeeper negotiates it. */
export function negotiateTimeout(cfg: Config, requested: number | undefined): number {
  const want = requested ?? 30000;
  return Math.min(cfg.maxSessionTimeout, Math.max(cfg.minSessionTimeout, want));
}

/** A host as it goes in a URL (an IPv6 address in brackets). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The URL of a node's client port: https when it serves TLS. `host` and `port` default to the configured ones. */
export function clientUrl(cfg: Pick<Config, 'tlsCertFile' | 'httpHost' | 'httpPort'>, host = cfg.httpHost, port = cfg.httpPort): string {
  return `${cfg.tlsCertFile ? 'https' : 'http'}://${urlHost(host)}:${port}`;
}
