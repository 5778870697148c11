// Issue #5 point 7: the create/set/get/90-10 mix load against a zkgate ensemble, a ZooKeeper 3.8 ensemble and an
// etcd cluster of the same size on this machine, phase by phase in turn, then leader-SIGKILL failover rounds.
// Standalone: `node dist/bench/ensemble.js [--size 3] [--duration 10]` writes bench/ENSEMBLE-RESULTS.md.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { requestsFor, value, type HttpPhase, type LoadShape } from './http-load.js';
import { sleep, stopChild, type Child } from './procs.js';
import { BENCH_DIR, commitOf, load1, machine } from './report.js';
import type { PhaseResult } from './stats.js';
import { prepareZkgate } from './zkgate.js';
import { zookeeperInstalled, ZK_MISSING_HELP } from './zookeeper.js';
import { closeClients, connectClients, prepareZk, runZkPhase, type ZkPhase } from './zk-load.js';
import { runJavaZkPhases } from './java-load.js';
import { sharedPeerTlsLines } from '../test/helpers/certs.js';
import { startZkgateEnsemble, type ZkgateEnsemble } from './zkgate-ensemble.js';
import { startZkEnsemble, waitZkMemberUp, type ZkEnsemble } from './zk-ensemble.js';
import { etcdInstalled, etcdRequestsFor, ETCD_MISSING_HELP, prepareEtcd, startEtcdCluster, type EtcdCluster } from './etcd.js';
import { cpuOf, runSpreadPhase } from './spread-load.js';
import { measureFailover, zkgateWriter, zkWriters, type FailoverRound, type FailoverTarget } from './failover.js';
import { LEADER_ONLY, renderEnsemble, SPREAD, type EnsembleBenchResult } from './ensemble-report.js';

export type { EnsembleBenchResult } from './ensemble-report.js';

export interface EnsembleBenchOptions {
  size: number;
  durationSec: number;
  warmupSec?: number;
  connections?: number;
  valueBytes?: number;
  phases?: ZkPhase[];
  zookeeper?: boolean;
  etcd?: boolean;
  /** Also drive ZooKeeper with its own Java client (bench/java/ZkLoad.java). */
  java?: boolean;
  /** Leader-SIGKILL rounds per system (0 = skip failover). */
  failoverRounds?: number;
  /** Run the zkgate members under node --cpu-prof (profiles here); skips failover (a SIGKILLed node writes none). */
  cpuProfDir?: string;
  /** zkgate's peer links over mutual TLS (a CA and one certificate made for the run), to measure what TLS costs. */
  peerTls?: boolean;
  log?: (m: string) => void;
}

/** Every child any cluster spawns, so that whatever fails (or on Ctrl-C), each is stopped by its PID. */
const live = new Set<Child>();
const FAILOVER_WRITERS = 16;
const FAILOVER_STEADY_MS = 2000;
const FAILOVER_LIMIT_MS = 20000;

function show(log: (m: string) => void, r: PhaseResult): void {
  log(
    `${r.system} ${r.phase} (${r.client}): ${Math.round(r.opsPerS)} ops/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, errors ${r.errors}, ` +
      `server ${r.serverCores.toFixed(2)} cores, load-gen ${r.loadgenCores.toFixed(2)} cores` +
      (r.commits ? `, ${r.commits} commits` : ''),
  );
}

export async function runEnsembleBench(opts: EnsembleBenchOptions): Promise<EnsembleBenchResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[ensemble ${new Date().toISOString().slice(11, 19)}] ${m}\n`));
  const shape: LoadShape = { connections: opts.connections ?? 64, durationS: opts.durationSec, warmupS: opts.warmupSec ?? 3, valueBytes: opts.valueBytes ?? 256 };
  const phases = opts.phases ?? ['create', 'set', 'get', 'mix'];
  const rounds = opts.cpuProfDir ? 0 : (opts.failoverRounds ?? 3);
  const root = mkdtempSync(join(tmpdir(), 'zkgate-ens-bench-'));
  const result: EnsembleBenchResult = {
    date: new Date().toISOString(),
    commit: commitOf(BENCH_DIR),
    command: `node dist/bench/ensemble.js${process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''}`,
    machine: machine(root),
    size: opts.size,
    load1Start: load1(),
    load1End: NaN,
    load1Samples: [],
    shape,
    phases: [],
    failover: {},
    skipped: [],
    notes: [],
    nice: 0,
  };
  const track = (c: Child, alive: boolean) => (alive ? live.add(c) : live.delete(c));
  let zg: ZkgateEnsemble | undefined;
  let zk: ZkEnsemble | undefined;
  let etcd: EtcdCluster | undefined;
  let zkClients: Awaited<ReturnType<typeof connectClients>> = [];
  log(`load average (1 min) at start: ${result.load1Start.toFixed(2)}; temp dir ${root}`);
  try {
    zg = await startZkgateEnsemble({ size: opts.size, root, cpuProfDir: opts.cpuProfDir, track, extra: opts.peerTls ? sharedPeerTlsLines(root, 'zkgate bench peer') : [] });
    if (opts.peerTls) result.notes.push('zkgate ran with peer TLS (--peer-tls): every link between its members is mutual TLS.');
    const zgLeader = zg.members[(await zg.leader()) - 1]!;
    log(`zkgate ×${opts.size} up, leader ${zgLeader.id}`);
    await prepareZkgate(zgLeader.url, shape.valueBytes);

    if (opts.zookeeper !== false) {
      if (!zookeeperInstalled()) {
        log(ZK_MISSING_HELP);
        result.skipped.push(ZK_MISSING_HELP);
      } else {
        zk = await startZkEnsemble(root, opts.size, track);
        log(`ZooKeeper ×${opts.size} up, leader ${await zk.leader()}`);
        zkClients = await connectClients(zk.connect, shape.connections);
        await prepareZk(zkClients[0]!, shape.valueBytes);
      }
    }
    if (opts.etcd !== false) {
      if (!etcdInstalled()) {
        log(ETCD_MISSING_HELP);
        result.skipped.push(ETCD_MISSING_HELP);
      } else {
        etcd = await startEtcdCluster(root, opts.size, track);
        log(`etcd ×${opts.size} up, leader ${await etcd.leader()}`);
        await prepareEtcd(etcd.urls[0]!, shape.valueBytes);
      }
    }

    const body = value(shape.valueBytes);
    for (const phase of phases) {
      const z = zg;
      const leaderUrl = z.members[(await z.leader()) - 1]!.url;
      const zgReq = (i: number, tag: string) => requestsFor(phase as HttpPhase, body, tag + i);
      const runs: (() => Promise<PhaseResult>)[] = [
        () => runSpreadPhase({ system: 'zkgate', phase, client: SPREAD, urls: z.urls, requests: zgReq, pids: () => z.pids(), commitsFrom: leaderUrl }, shape),
      ];
      if (phase === 'create' || phase === 'set') {
        runs.push(() => runSpreadPhase({ system: 'zkgate', phase, client: LEADER_ONLY, urls: [leaderUrl], requests: zgReq, pids: () => z.pids(), commitsFrom: leaderUrl }, shape));
      }
      if (zk) {
        const k = zk;
        const clients = zkClients;
        runs.push(async () => runZkPhase(clients, phase, shape, cpuOf(() => k.pids()), k.members[(await k.leader()) - 1]!.clientPort));
        if (opts.java !== false) {
          runs.push(async () => {
            const leader = k.members[(await k.leader()) - 1]!;
            const [r] = await runJavaZkPhases(k.connect, [phase], shape, leader.child!.pid, leader.clientPort);
            if (!r) throw new Error(`java ZkLoad gave no result for ${phase}`);
            return { ...r, client: 'java-zookeeper-client (server CPU: leader JVM only)' };
          });
        }
      }
      if (etcd) {
        const e = etcd;
        runs.push(() =>
          runSpreadPhase({ system: 'etcd', phase, client: SPREAD, urls: e.urls, requests: (i, tag) => etcdRequestsFor(phase, shape.valueBytes, tag + i), pids: () => e.pids() }, shape),
        );
      }
      for (const run of runs) {
        result.load1Samples.push(load1());
        const r = await run();
        show(log, r);
        result.phases.push(r);
      }
    }
    closeClients(zkClients);
    zkClients = [];

    if (rounds > 0) {
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        const key = signal === 'SIGKILL' ? 'zkgate' : 'zkgateGraceful';
        result.failover[key] = await zkgateFailover(zg, rounds, shape.valueBytes, signal, log);
        if (zk) result.failover[signal === 'SIGKILL' ? 'zookeeper' : 'zookeeperGraceful'] = await zkFailover(zk, rounds, shape.valueBytes, signal, log);
      }
    }
  } finally {
    closeClients(zkClients);
    await Promise.allSettled([zg?.stop(), zk?.stop(), etcd?.stop()]);
    await Promise.allSettled([...live].map((c) => stopChild(c)));
    rmSync(root, { recursive: true, force: true });
  }
  result.load1End = load1();
  result.notes.push(...notesFor(result));
  log(`load average (1 min) at end: ${result.load1End.toFixed(2)}`);
  return result;
}

/** Failover rounds against one system: `writer`'s writes spread over it, closed when the rounds end. */
async function failoverRounds(
  name: string,
  target: Omit<FailoverTarget, 'write'>,
  writer: { write: FailoverTarget['write']; close: () => void },
  rounds: number,
  signal: 'SIGKILL' | 'SIGTERM',
  log: (m: string) => void,
): Promise<FailoverRound[]> {
  try {
    log(`${name} failover (${signal}): ${rounds} rounds, ${FAILOVER_WRITERS} writers`);
    return await measureFailover({ ...target, write: writer.write }, { rounds, writers: FAILOVER_WRITERS, steadyMs: FAILOVER_STEADY_MS, limitMs: FAILOVER_LIMIT_MS, signal, log });
  } finally {
    writer.close();
  }
}

function zkgateFailover(z: ZkgateEnsemble, rounds: number, valueBytes: number, signal: 'SIGKILL' | 'SIGTERM', log: (m: string) => void): Promise<FailoverRound[]> {
  const restart = async (id: number) => {
    await z.start(id);
    await z.leader();
    await sleep(2000);
  };
  return failoverRounds('zkgate', { leader: () => z.leader(), kill: (id, sig) => z.kill(id, sig), restart }, zkgateWriter(z.urls, valueBytes), rounds, signal, log);
}

async function zkFailover(zk: ZkEnsemble, rounds: number, valueBytes: number, signal: 'SIGKILL' | 'SIGTERM', log: (m: string) => void): Promise<FailoverRound[]> {
  const restart = async (id: number) => {
    await zk.start(id);
    await waitZkMemberUp(zk, id);
    await sleep(2000);
  };
  const writer = await zkWriters(zk.connect, FAILOVER_WRITERS, valueBytes);
  return failoverRounds('ZooKeeper', { leader: () => zk.leader(), kill: (id, sig) => zk.kill(id, sig), restart }, writer, rounds, signal, log);
}

function notesFor(r: EnsembleBenchResult): string[] {
  const n = r.size;
  const notes = [
    `All ${n * 3} servers (when every system is installed), the load generator and this harness share ${r.machine.cores} cores; idle clusters keep their heartbeats running while another system is measured.`,
    'The load generator is single-threaded (autocannon instances in one Node process; node-zookeeper-client likewise); "load-gen CPU" near 1.0 means the figure is bounded by the generator too.',
    'zkgate "all members": the connections are divided evenly between the members, and followers forward writes to the leader (the product\'s normal mode). "leader only": every connection to the leader.',
    'ZooKeeper clients get a random member from the connect string; ZooKeeper followers forward writes to their leader likewise. The ZooKeeper reference for each ratio is the best figure any of its clients reached.',
    'etcd: create is a put of a fresh key (no compare), set a put over an existing key, get a serializable range (the member answers from its own state, as ZooKeeper and zkgate reads do).',
    `Failover: ${FAILOVER_WRITERS} closed-loop writers over every member; the leader gets SIGKILL; the figure is the time until the first write issued after the kill succeeds. Then as many rounds of a graceful stop (SIGTERM: zkgate's leader hands its leadership over first, ZooKeeper's JVM runs its shutdown hook), measured by the longest time without any successful write from the signal on (the stopping leader may commit a while longer, so a first success can come before the pause). The stopped member is restarted and the cluster settles before the next round. ZooKeeper's client reconnect delay is lowered to 0–50 ms (default 0–1000 ms) so the figure is the ensemble's.`,
  ];
  const gen = r.phases.filter((p) => p.loadgenCores > 0.9);
  if (gen.length > 0) notes.push(`Load generator at ≥ 0.9 of a core in: ${gen.map((p) => `${p.system} ${p.phase} (${p.client})`).join(', ')}.`);
  const loads = [r.load1Start, ...r.load1Samples, r.load1End];
  if (Math.max(...loads) > 1) notes.push(`The 1-minute load average ranged ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}: other work shared the CPUs, so absolute figures are noisy; the ratios within this run (systems taking turns) are steadier.`);
  return notes;
}

/**
 * Children inherit the nice level. With the kernel's autogroup scheduling (sched_autogroup_enabled=1), a nice
 * level only ranks processes within one session's group, and the CPU is shared between groups; so when this
 * process leads its own session (started with `setsid`), the group's nice is set too. Only the bench's own
 * processes are in that group.
 */
function raisePriority(nice: number): void {
  setPriority(0, nice);
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const sid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
  if (sid === process.pid && existsSync('/proc/self/autogroup')) writeFileSync('/proc/self/autogroup', String(nice));
  else if (existsSync('/proc/self/autogroup')) process.stderr.write('note: not a session leader, so only the nice level within this session changes; run under `setsid` for the autogroup\n');
}

const program = new Command()
  .name('ensemble-bench')
  .description('zkgate ensemble vs ZooKeeper and etcd ensembles: see bench/ENSEMBLE-RESULTS.md')
  .option('--size <n>', 'members per cluster', '3')
  .option('--duration <s>', 'measured seconds per phase', '10')
  .option('--warmup <s>', 'warm-up seconds before each phase', '3')
  .option('--connections <n>', 'concurrent clients', '64')
  .option('--value-bytes <n>', 'value size', '256')
  .option('--phases <list>', 'create,set,get,mix', 'create,set,get,mix')
  .option('--failover-rounds <n>', 'leader SIGKILL rounds per system (0 = none)', '3')
  .option('--no-zookeeper', 'skip ZooKeeper')
  .option('--no-etcd', 'skip etcd')
  .option('--no-java', "skip ZooKeeper's Java client")
  .option('--cpu-prof', 'zkgate members under node --cpu-prof (profiles in bench/results/prof-ensemble-<date>/; no failover)', false)
  .option('--nice <n>', 'run the bench and every process it starts at this nice level, and its autogroup too when started with setsid (e.g. -10 on a machine shared with other work; needs root)', '0')
  .option('--peer-tls', "zkgate's peer links over mutual TLS (test certificates made for the run)", false)
  .option('--out <file>', 'where to write the report', join(BENCH_DIR, 'ENSEMBLE-RESULTS.md'));

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ nice: string; size: string; duration: string; warmup: string; connections: string; valueBytes: string; phases: string; failoverRounds: string; zookeeper: boolean; etcd: boolean; java: boolean; cpuProf: boolean; peerTls: boolean; out: string }>();
  if (Number(o.nice) !== 0) raisePriority(Number(o.nice));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const profDir = o.cpuProf ? join(BENCH_DIR, 'results', `prof-ensemble-${stamp}`) : undefined;
  const r = await runEnsembleBench({
    size: Number(o.size),
    durationSec: Number(o.duration),
    warmupSec: Number(o.warmup),
    connections: Number(o.connections),
    valueBytes: Number(o.valueBytes),
    phases: o.phases.split(',') as ZkPhase[],
    zookeeper: o.zookeeper,
    etcd: o.etcd,
    java: o.java,
    failoverRounds: Number(o.failoverRounds),
    cpuProfDir: profDir,
    peerTls: o.peerTls,
  });
  r.nice = Number(o.nice);
  const md = renderEnsemble(r, o.out);
  const resultsDir = join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `ensemble-${stamp}.json`), JSON.stringify(r, null, 2));
  writeFileSync(o.out, md);
  process.stdout.write(md);
  if (profDir) process.stderr.write(`zkgate CPU profiles under ${profDir}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.on('SIGINT', () => void Promise.allSettled([...live].map((c) => stopChild(c, 3000))).then(() => process.exit(130)));
  main().catch((e) => {
    process.stderr.write(`ensemble bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
