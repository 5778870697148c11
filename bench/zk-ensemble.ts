// A ZooKeeper 3.8 ensemble for the comparison: N QuorumPeerMain JVMs (-Xmx256m) on loopback, each with its
// own zoo.cfg, dataDir and myid; ready once every `srvr` reports a Mode; leader lookup, SIGKILL, restart by id.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, killMember, memberPids, pollLeader, startChild, stopMembers, waitUntil, type Child, type TrackChild } from './procs.js';
import { fourLetter, zkClasspath } from './zookeeper.js';

export interface ZkMember {
  id: number;
  clientPort: number;
  cfg: string;
  child?: Child;
}

export interface ZkEnsemble {
  members: ZkMember[];
  /** host:port,host:port,... for the clients (they pick a server at random). */
  connect: string;
  pids(): number[];
  leader(timeoutMs?: number): Promise<number>;
  /** SIGKILL by default; SIGTERM for a graceful stop. */
  kill(id: number, signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  start(id: number): Promise<void>;
  stop(): Promise<void>;
}

async function mode(port: number): Promise<string | undefined> {
  try {
    return /^Mode: (\S+)/m.exec(await fourLetter(port, 'srvr'))?.[1];
  } catch {
    return undefined;
  }
}

export async function startZkEnsemble(root: string, size: number, track?: TrackChild): Promise<ZkEnsemble> {
  const members: ZkMember[] = [];
  const peers: string[] = [];
  for (let id = 1; id <= size; id++) {
    const [quorum, election, clientPort] = [await freePort(), await freePort(), await freePort()];
    peers.push(`server.${id}=127.0.0.1:${quorum}:${election}`);
    members.push({ id, clientPort, cfg: join(root, `zk-${id}.cfg`) });
  }
  for (const m of members) {
    const dataDir = join(root, `zk-${m.id}`);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'myid'), `${m.id}\n`);
    writeFileSync(
      m.cfg,
      [
        // zoo_sample.cfg's timing; forceSync stays at its default (yes), so every write is fsync'd as zkgate's are.
        'tickTime=2000',
        'initLimit=10',
        'syncLimit=5',
        `dataDir=${dataDir}`,
        `clientPort=${m.clientPort}`,
        'clientPortAddress=127.0.0.1',
        'admin.enableServer=false',
        'maxClientCnxns=0',
        '4lw.commands.whitelist=*',
        'autopurge.purgeInterval=0',
        ...peers,
        '',
      ].join('\n'),
    );
  }
  const byId = (id: number) => members.find((m) => m.id === id) as ZkMember;
  const ens: ZkEnsemble = {
    members,
    connect: members.map((m) => `127.0.0.1:${m.clientPort}`).join(','),
    pids: () => memberPids(members),
    leader: (timeoutMs = 60000) => pollLeader(members, async (m) => (await mode(m.clientPort)) === 'leader', 'ZooKeeper', timeoutMs, 50),
    kill: (id, signal) => killMember(byId(id), track, signal),
    async start(id) {
      const m = byId(id);
      const c = startChild(`zookeeper-${id}`, '/usr/bin/java', [
        '-Xmx256m',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        zkClasspath(),
        'org.apache.zookeeper.server.quorum.QuorumPeerMain',
        m.cfg,
      ]);
      m.child = c;
      track?.(c, true);
    },
    stop: () => stopMembers(members, track),
  };
  try {
    for (const m of members) await ens.start(m.id);
    // A member reports a Mode only once it has joined a quorum (leader or follower).
    await Promise.all(members.map((m) => waitUntil(m.child as Child, async () => /^(leader|follower)$/.test((await mode(m.clientPort)) ?? ''), 90000, 100)));
  } catch (e) {
    await ens.stop();
    throw e;
  }
  return ens;
}

/** After a restart: wait until member `id` has rejoined as a follower (or leader). */
export async function waitZkMemberUp(ens: ZkEnsemble, id: number, timeoutMs = 90000): Promise<void> {
  const m = ens.members.find((x) => x.id === id) as ZkMember;
  await waitUntil(m.child as Child, async () => /^(leader|follower)$/.test((await mode(m.clientPort)) ?? ''), timeoutMs, 100);
}
