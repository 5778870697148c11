// Reading a Config: zoo.cfg's key=value text (ZooKeeper's format), command-line flags over it, then the checks that
// span keys. The rest of the server reads the Config this returns (server/config.ts), never zoo.cfg itself.
import { readFileSync, existsSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import { ConfigError, TIMER_MAX_MS, bool, int, pathValue, port } from './config-values.js';
import { defaultConfig, peerTlsFiles, tlsSettings, type Config } from './config.js';
import { parseOrigins } from './origins.js';
import { applyZkTlsKeys, readZkTlsKey, type ZkTlsKeys } from './zk-tls-keys.js';
import { parseCiphers, parseProtocols } from './tls-policy.js';
import { parseServerLine, resolveEnsembleIdentity } from './ensemble-config.js';

/**
 * ZooKeeper keys a zoo.cfg may well carry that zkgate reads but does not use: warned about with the reason, so an
 * operator does not take the setting for granted.
 */
export const UNUSED_ZK_KEYS: ReadonlyMap<string, string> = new Map([
  ['secureClientPort', 'zkgate has no second, TLS-only port: tlsCertFile and tlsKeyFile (or ssl.keyStore.location) turn TLS on for the HTTP port itself'],
  ['ssl.hostnameVerification', 'a client certificate is checked against tlsClientCaFile only, not against the client\'s address (ssl.quorum.hostnameVerification is used, for peers)'],
]);

/** A host as a listener binds it: `localhost` is the loopback address (the usual reading; enough to catch a clash). */
function sameHost(h: string): string {
  const l = h.toLowerCase();
  return l === 'localhost' ? '127.0.0.1' : l;
}

/** Parses zoo.cfg text into `cfg` (mutating it). Relative dataDir paths resolve against the file's folder. */
export function applyZooCfg(cfg: Config, text: string, baseDir: string): { httpPortSet: boolean; clientPortAddressSet: boolean } {
  const seen = { httpPortSet: false, clientPortAddressSet: false };
  let minSet = false;
  let maxSet = false;
  // ZooKeeper's ssl.* keys, applied after the loop so that zkgate's own TLS keys win whatever their order.
  const zkTls: ZkTlsKeys = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new ConfigError(line, `zoo.cfg: line ${JSON.stringify(line)} is not key=value`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key.startsWith('server.')) {
      cfg.servers.push(parseServerLine(key, value));
      continue;
    }
    switch (key) {
      case 'tickTime':
        cfg.tickTime = int(key, value, 1, 600000);
        break;
      case 'dataDir':
        cfg.dataDir = pathValue(key, value, baseDir);
        break;
      case 'httpPort':
        cfg.httpPort = port(key, value);
        seen.httpPortSet = true;
        break;
      case 'clientPortAddress':
        if (value === '') throw new ConfigError(key, 'clientPortAddress: must not be empty');
        cfg.httpHost = value;
        seen.clientPortAddressSet = true;
        break;
      case 'clientPort':
        cfg.clientPort = port(key, value);
        break;
      case 'metricsPort':
      case 'metricsProvider.httpPort':
        cfg.metricsPort = port(key, value);
        break;
      case 'metricsHost':
      case 'metricsProvider.httpHost':
        if (value === '') throw new ConfigError(key, `${key}: must not be empty`);
        cfg.metricsHost = value;
        break;
      case 'initLimit':
        cfg.initLimit = int(key, value, 1, 10000);
        break;
      case 'syncLimit':
        cfg.syncLimit = int(key, value, 1, 10000);
        break;
      case 'minSessionTimeout':
        cfg.minSessionTimeout = int(key, value, 1, TIMER_MAX_MS);
        minSet = true;
        break;
      case 'maxSessionTimeout':
        cfg.maxSessionTimeout = int(key, value, 1, TIMER_MAX_MS);
        maxSet = true;
        break;
      case 'jute.maxbuffer':
        cfg.juteMaxBuffer = int(key, value, 1024, 64 * 1024 * 1024);
        break;
      case 'tlsCertFile':
      case 'tlsKeyFile':
      case 'tlsClientCaFile':
      case 'peerTlsCertFile':
      case 'peerTlsKeyFile':
      case 'peerTlsCaFile':
        cfg[key] = pathValue(key, value, baseDir);
        break;
      case 'tlsProtocols':
      case 'peerTlsProtocols':
        cfg[key] = parseProtocols(key, value);
        break;
      case 'tlsCiphers':
      case 'peerTlsCiphers':
        cfg[key] = parseCiphers(key, value);
        break;
      case 'peerTlsVerifyHostname':
        cfg.peerTlsVerifyHostname = bool(key, value);
        break;
      case 'tlsClientAuth':
        if (value !== 'need' && value !== 'want') throw new ConfigError(key, `tlsClientAuth: need or want, got ${JSON.stringify(value)}`);
        cfg.tlsClientAuth = value;
        zkTls.ownClientAuth = true;
        break;
      case 'corsAllowOrigins':
        cfg.corsAllowOrigins = parseOrigins(key, value);
        break;
      case 'snapCount':
        cfg.snapCount = int(key, value, 2);
        break;
      case 'ensembleSecret':
        if (value === '') throw new ConfigError(key, 'ensembleSecret: must not be empty');
        cfg.ensembleSecret = value;
        cfg.ensembleSecretFile = undefined; // the later line wins
        break;
      case 'ensembleSecretFile':
        cfg.ensembleSecretFile = isAbsolute(value) ? value : resolve(baseDir, value);
        cfg.ensembleSecret = undefined;
        break;
      case 'superDigest':
      case 'DigestAuthenticationProvider.superDigest':
      case 'zookeeper.DigestAuthenticationProvider.superDigest':
        if (!/^[^:]+:[^:]+$/.test(value)) throw new ConfigError(key, `${key}: expected user:base64(sha1(user:password))`);
        cfg.superDigest = value;
        break;
      case 'x509SuperUser':
      case 'X509AuthenticationProvider.superUser':
      case 'zookeeper.X509AuthenticationProvider.superUser':
        if (!/^[A-Za-z][\w.-]*=/.test(value)) throw new ConfigError(key, `${key}: expected a certificate subject DN, e.g. CN=admin,O=Example`);
        cfg.x509SuperUser = value;
        break;
      case 'znode.container.checkIntervalMs':
        cfg.containerCheckIntervalMs = int(key, value, 10, TIMER_MAX_MS);
        break;
      case 'znode.container.maxPerMinute':
        cfg.containerMaxPerMinute = int(key, value, 1);
        break;
      case 'znode.container.maxNeverUsedIntervalMs':
        cfg.containerMaxNeverUsedIntervalMs = int(key, value, 0, TIMER_MAX_MS);
        break;
      case 'logRetainEntries':
        cfg.logRetainEntries = int(key, value, 0, 10_000_000);
        break;
      case 'raftTickMs':
        cfg.raftTickMs = int(key, value, 1, 10000);
        break;
      case 'electionTicks':
        cfg.electionTicks = int(key, value, 2, 1000);
        break;
      case 'proposalTimeoutMs':
        cfg.proposalTimeoutMs = int(key, value, 10, 600000);
        break;
      case 'leaderWaitMs':
        cfg.leaderWaitMs = int(key, value, 0, 600000);
        break;
      case 'maxPendingWrites':
        cfg.maxPendingWrites = int(key, value, 1, 1_000_000);
        break;
      case 'maxPendingPerConnection':
        cfg.maxPendingPerConnection = int(key, value, 0, 1_000_000);
        break;
      case 'maxSessions':
        cfg.maxSessions = int(key, value, 1, 10_000_000);
        break;
      case 'audit.enable':
        cfg.auditEnable = bool(key, value);
        break;
      case 'readonlymode.enabled':
        cfg.readOnlyMode = bool(key, value);
        break;
      case 'auditLogFile':
        cfg.auditLogFile = pathValue(key, value, baseDir);
        break;
      case 'httpRequestTimeoutMs':
        cfg.httpRequestTimeoutMs = int(key, value, 100, 3_600_000);
        break;
      case 'maxCnxns':
        cfg.maxCnxns = int(key, value, 1, 10_000_000);
        break;
      case 'maxClientCnxns':
        cfg.maxClientCnxns = int(key, value, 0, 10_000_000);
        break;
      case 'wsMaxConnections':
      case 'wsMaxConnectionsPerIp':
      case 'wsMaxWatchesPerConnection':
      case 'maxBlockingReads':
      case 'recipeMaxWaitersPerName':
        cfg[key] = int(key, value, 1, 10_000_000);
        break;
      case 'wsMaxFrameBytes':
      case 'wsMaxBufferedBytes':
      case 'wsMaxResumeBytes':
      case 'wsMaxReplyBytes':
        cfg[key] = int(key, value, 1024, 1024 * 1024 * 1024);
        break;
      case 'wsPingIntervalMs':
      case 'wsCloseGraceMs':
      case 'blockingReadMaxWaitMs':
      case 'recipeMaxWaitMs':
        cfg[key] = int(key, value, 10, 3_600_000);
        break;
      case 'watchHistoryMaxEvents':
      case 'wsMaxRememberedEvents':
        cfg[key] = int(key, value, 0, 10_000_000);
        break;
      case 'adminListLimit':
        cfg.adminListLimit = int(key, value, 1, 1_000_000);
        break;
      case 'snapshotTimeoutMs':
        cfg.snapshotTimeoutMs = int(key, value, 1000, TIMER_MAX_MS);
        break;
      default:
        if (!readZkTlsKey(zkTls, key, value, baseDir)) cfg.unknownKeys.push(key);
    }
  }
  if (!minSet) cfg.minSessionTimeout = 2 * cfg.tickTime;
  if (!maxSet) cfg.maxSessionTimeout = 20 * cfg.tickTime;
  if (cfg.minSessionTimeout > cfg.maxSessionTimeout) {
    throw new ConfigError('minSessionTimeout', `minSessionTimeout (${cfg.minSessionTimeout}) is larger than maxSessionTimeout (${cfg.maxSessionTimeout})`);
  }
  applyZkTlsKeys(zkTls, cfg);
  // Which TLS keys go together is checked here; the PEM files are read only by the server (startServer), so a
  // client command given this zoo.cfg (`zkgate status --config`) never needs the server's private key.
  tlsSettings(cfg);
  return seen;
}

export interface CliOverrides {
  config?: string;
  httpPort?: string;
  dataDir?: string;
  host?: string;
  logLevel?: string;
}

/** zoo.cfg first, command-line flags over it, then the ensemble rules (myid, own server line, HTTP address). */
export function loadConfig(o: CliOverrides): Config {
  const cfg = defaultConfig();
  let seen = { httpPortSet: false, clientPortAddressSet: false };
  if (o.config) {
    if (!existsSync(o.config)) throw new ConfigError('config', `config file ${o.config} does not exist`);
    seen = applyZooCfg(cfg, readFileSync(o.config, 'utf8'), dirname(resolve(o.config)));
  }
  if (o.httpPort !== undefined) {
    cfg.httpPort = port('--http-port', o.httpPort);
    seen.httpPortSet = true;
  }
  if (o.dataDir !== undefined) cfg.dataDir = resolve(o.dataDir);
  if (o.host !== undefined) {
    // As clientPortAddress= is: an empty shell variable must not open the node on every interface.
    if (o.host.trim() === '') throw new ConfigError('clientPortAddress', '--host: must not be empty');
    cfg.httpHost = o.host;
    seen.clientPortAddressSet = true;
  }
  if (o.logLevel !== undefined) cfg.logLevel = o.logLevel;
  cfg.dataDir = resolve(cfg.dataDir);
  if (cfg.servers.length > 0) resolveEnsembleIdentity(cfg, seen);
  peerTlsFiles(cfg);
  if (cfg.maxCnxns !== undefined && cfg.maxCnxns <= cfg.wsMaxConnections) {
    throw new ConfigError('maxCnxns', `maxCnxns (${cfg.maxCnxns}) must be larger than wsMaxConnections (${cfg.wsMaxConnections}): every WebSocket is a connection too`);
  }
  const metricsHost = sameHost(cfg.metricsHost ?? cfg.httpHost);
  if (cfg.metricsPort === cfg.httpPort && metricsHost === sameHost(cfg.httpHost)) {
    throw new ConfigError('metricsPort', `metricsPort ${cfg.metricsPort} is the HTTP port: the metrics listener needs a port of its own`);
  }
  const me = cfg.servers.find((s) => s.id === cfg.myid);
  if (me && cfg.metricsPort !== undefined && (cfg.metricsPort === me.peerPort || cfg.metricsPort === me.electionPort)) {
    throw new ConfigError('metricsPort', `metricsPort ${cfg.metricsPort} is a port of server.${me.id}'s line: the metrics listener needs a port of its own`);
  }
  return cfg;
}
