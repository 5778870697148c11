// The ensemble's part of zoo.cfg: `server.N` lines, the `myid` file, and what they must agree on.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from './config.js';
import { ConfigError, int, port } from './config-values.js';

export interface ServerLine {
  id: number;
  host: string;
  peerPort: number;
  electionPort: number;
  role: 'participant' | 'observer';
  httpHost?: string;
  httpPort?: number;
}

/**
 * Where clients reach a member's HTTP API, as every view of the ensemble names it: a port-only `;8080` is on the
 * member's own (peer) host, and a line without one serves on `defaultPort`.
 */
export function memberHttpAddress(s: ServerLine, defaultPort: number): string {
  return `${s.httpHost ?? s.host}:${s.httpPort ?? defaultPort}`;
}

/** ZooKeeper's text for /zookeeper/config: a `server.N=host:peerPort:electionPort:role[;httpHost:httpPort]` line each, then the version. */
export function zookeeperConfigText(servers: ServerLine[]): string {
  const lines = servers.map((s) => {
    const http = s.httpPort === undefined ? '' : `;${memberHttpAddress(s, s.httpPort)}`;
    return `server.${s.id}=${s.host}:${s.peerPort}:${s.electionPort}:${s.role}${http}`;
  });
  return [...lines, 'version=0'].join('\n');
}

/** `server.N=host:peerPort:electionPort[:participant|observer][;[httpHost:]httpPort]` */
export function parseServerLine(key: string, value: string): ServerLine {
  // From 1: the consensus core's 0 is "no node" (no leader, no vote); ZooKeeper's guide asks for 1 to 255 too.
  const id = int(key, key.slice('server.'.length), 1, 254);
  const [quorumPart, clientPart] = value.split(';') as [string, string | undefined];
  const parts = quorumPart.trim().split(':');
  if (parts.length < 3 || parts.length > 4 || !parts[0]) {
    throw new ConfigError(key, `${key}: expected host:peerPort:electionPort[:participant|observer][;httpHost:httpPort], got ${JSON.stringify(value)}`);
  }
  const role = parts[3] ?? 'participant';
  if (role !== 'participant' && role !== 'observer') throw new ConfigError(key, `${key}: role must be participant or observer, got ${JSON.stringify(role)}`);
  const line: ServerLine = { id, host: parts[0], peerPort: port(key, parts[1] ?? ''), electionPort: port(key, parts[2] ?? ''), role };
  if (clientPart !== undefined && clientPart.trim() !== '') {
    const c = clientPart.trim();
    const i = c.lastIndexOf(':');
    if (i >= 0) {
      line.httpHost = c.slice(0, i);
      line.httpPort = port(key, c.slice(i + 1));
    } else {
      line.httpPort = port(key, c);
    }
  }
  return line;
}

/** Two members on one address would dial themselves or fight over a port: refused at load, naming both lines. */
function checkDistinctAddresses(servers: ServerLine[]): void {
  const owners = new Map<string, string>();
  for (const s of servers) {
    // A port-only HTTP part (`;8080`) is on the member's own host.
    const addrs: [string, string][] = [[`${s.host}:${s.peerPort}`, 'peer address']];
    if (s.httpPort !== undefined) addrs.push([memberHttpAddress(s, s.httpPort), 'HTTP address']);
    for (const [addr, what] of addrs) {
      const key = addr.toLowerCase();
      const owner = owners.get(key);
      if (owner !== undefined) throw new ConfigError(`server.${s.id}`, `server.${s.id}: ${what} ${addr} is also ${owner}`);
      owners.set(key, `server.${s.id}'s ${what}`);
    }
  }
}

export function resolveEnsembleIdentity(cfg: Config, seen: { httpPortSet: boolean; clientPortAddressSet: boolean }): void {
  const ids = new Set<number>();
  for (const s of cfg.servers) {
    if (ids.has(s.id)) throw new ConfigError(`server.${s.id}`, `server.${s.id} is defined twice`);
    ids.add(s.id);
  }
  checkDistinctAddresses(cfg.servers);
  if (!cfg.servers.some((s) => s.role === 'participant')) {
    throw new ConfigError('server.N', 'every server.N line is an observer: an ensemble needs at least one participant to vote and lead');
  }
  if (!cfg.ensembleSecret && cfg.ensembleSecretFile === undefined) {
    throw new ConfigError('ensembleSecret', 'ensembleSecret (or ensembleSecretFile) is required when zoo.cfg has server.N lines: every peer must prove it');
  }
  const myidFile = resolve(cfg.dataDir, 'myid');
  if (!existsSync(myidFile)) throw new ConfigError('myid', `myid file missing: ${myidFile} (dataDir ${cfg.dataDir}); write this server's id there, e.g. echo 1 > ${myidFile}`);
  const raw = readFileSync(myidFile, 'utf8').trim();
  if (!/^\d+$/.test(raw)) throw new ConfigError('myid', `myid file ${myidFile} (dataDir ${cfg.dataDir}) must hold a number, found ${JSON.stringify(raw)}`);
  const myid = Number(raw);
  const me = cfg.servers.find((s) => s.id === myid);
  if (!me) throw new ConfigError('myid', `myid is ${myid} (from ${myidFile}, dataDir ${cfg.dataDir}) but zoo.cfg has no server.${myid} line`);
  cfg.myid = myid;
  if (me.httpPort !== undefined) {
    const host = me.httpHost ?? cfg.httpHost;
    if ((seen.httpPortSet && cfg.httpPort !== me.httpPort) || (me.httpHost !== undefined && seen.clientPortAddressSet && cfg.httpHost !== me.httpHost)) {
      throw new ConfigError(`server.${myid}`, `server.${myid} gives HTTP address ${host}:${me.httpPort} but httpPort/clientPortAddress give ${cfg.httpHost}:${cfg.httpPort}`);
    }
    cfg.httpPort = me.httpPort;
    cfg.httpHost = host;
  }
}
