// A zkgate ensemble for the benchmark: N `zkgate server` child processes on loopback, each with its own
// dataDir and myid and one shared zoo.cfg (product defaults otherwise); leader lookup, SIGKILL and restart by id.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpOk, killMember, memberPids, pollLeader, startChild, stopMembers, waitUntil, type Child, type TrackChild } from './procs.js';
import { ZKGATE_BIN } from './zkgate.js';
import { SERVER_NODE_FLAGS } from '../server/node-flags.js';

export interface ZkgateMember {
  id: number;
  url: string;
  httpPort: number;
  dataDir: string;
  child?: Child;
}

export interface ZkgateEnsemble {
  members: ZkgateMember[];
  urls: string[];
  /** Every running member's PID (for CPU accounting). */
  pids(): number[];
  /** Polls /v1/admin/srvr until a running member says it leads; returns its id. */
  leader(timeoutMs?: number): Promise<number>;
  /** SIGKILL by default; SIGTERM for a graceful stop. */
  kill(id: number, signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  start(id: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ZkgateEnsembleOptions {
  size: number;
  root: string;
  /** Put every member under node --cpu-prof, profiles written here when it exits. */
  cpuProfDir?: string;
  /** Called with each child as it is spawned, so the caller can stop it even if this module fails. */
  track?: TrackChild;
  /** More zoo.cfg lines (e.g. peer TLS). */
  extra?: string[];
}

/** A member's srvr mode, undefined when it does not answer (within 1 s). */
export async function srvrMode(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(`${url}/v1/admin/srvr`, { signal: AbortSignal.timeout(1000) });
    if (!r.ok) return undefined;
    return ((await r.json()) as { mode?: string }).mode;
  } catch {
    return undefined;
  }
}

export async function startZkgateEnsemble(o: ZkgateEnsembleOptions): Promise<ZkgateEnsemble> {
  const members: ZkgateMember[] = [];
  const peerPorts: number[] = [];
  for (let id = 1; id <= o.size; id++) {
    const httpPort = await freePort();
    peerPorts.push(await freePort());
    members.push({ id, url: `http://127.0.0.1:${httpPort}`, httpPort, dataDir: join(o.root, `zkgate-${id}`) });
  }
  const cfg = join(o.root, 'zkgate-zoo.cfg');
  // Defaults for everything else (tickTime 2000, raftTickMs 50, electionTicks 10): the product as shipped.
  writeFileSync(
    cfg,
    [
      ...members.map((m, i) => `server.${m.id}=127.0.0.1:${peerPorts[i]}:${peerPorts[i]};127.0.0.1:${m.httpPort}`),
      `ensembleSecret=bench-${process.pid}-${Date.now().toString(36)}`,
      ...(o.extra ?? []),
      '',
    ].join('\n'),
  );
  for (const m of members) {
    mkdirSync(m.dataDir, { recursive: true });
    writeFileSync(join(m.dataDir, 'myid'), `${m.id}\n`);
  }
  const byId = (id: number) => members.find((m) => m.id === id) as ZkgateMember;
  const ens: ZkgateEnsemble = {
    members,
    urls: members.map((m) => m.url),
    pids: () => memberPids(members),
    leader: (timeoutMs = 30000) => pollLeader(members, async (m) => (await srvrMode(m.url)) === 'leader', 'zkgate', timeoutMs, 25),
    kill: (id, signal) => killMember(byId(id), o.track, signal),
    async start(id) {
      const m = byId(id);
      const nodeFlags = [...SERVER_NODE_FLAGS, ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [])];
      const args = [...nodeFlags, ZKGATE_BIN, 'server', '--config', cfg, '--data-dir', m.dataDir, '--http-port', String(m.httpPort), '--log-level', 'warn'];
      const c = startChild(`zkgate-${id}`, process.execPath, args);
      m.child = c;
      o.track?.(c, true);
      // Three Node processes loading at once on a busy 2-core machine can take tens of seconds.
      await waitUntil(c, () => httpOk(`${m.url}/v1/admin/ruok`), 120000, 100);
    },
    stop: () => stopMembers(members, o.track),
  };
  try {
    await Promise.all(members.map((m) => ens.start(m.id)));
  } catch (e) {
    await ens.stop();
    throw e;
  }
  return ens;
}
