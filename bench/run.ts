// `npm run bench`: zkgate vs a bare fastify route vs standalone ZooKeeper under the same closed-loop load
// (create, set, get, 90/10 mix), the 1M-znode restart/memory check, and the watch fan-out when present;
// writes bench/RESULTS.md and raw JSON under bench/results/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { runHttpPhase, type HttpPhase, type LoadShape } from './http-load.js';
import { cpuSeconds, freePort, httpOk, startChild, stopChild, waitUntil, type Child } from './procs.js';
import { BENCH_DIR, commitOf, load1, machine, render, type Report } from './report.js';
import type { PhaseResult } from './stats.js';
import { prepareZkgate, sampleGetBody, startZkgate } from './zkgate.js';
import { startZookeeper, zookeeperInstalled, ZK_MISSING_HELP, type ZkServer } from './zookeeper.js';
import { closeClients, connectClients, prepareZk, runZkPhase, type ZkPhase } from './zk-load.js';
import type { Client } from 'node-zookeeper-client';
import { runJavaZkPhases } from './java-load.js';
import { runZnodesPhase } from './znodes.js';
import { runWatchBench } from './watch-fanout.js';

const BARE_BIN = fileURLToPath(new URL('./bare-server.js', import.meta.url));

interface Opts {
  duration: string;
  warmup: string;
  connections: string;
  valueBytes: string;
  znodes: string;
  readSeconds: string;
  zookeeper: boolean;
  java: boolean;
  http: boolean;
  cpuProf: boolean;
  watches: boolean;
  watchConnections: string;
  out: string;
  phases: string;
  nice: string;
}

const program = new Command()
  .name('bench')
  .description('zkgate benchmark: see bench/RESULTS.md')
  .option('--duration <s>', 'measured seconds per phase', '10')
  .option('--warmup <s>', 'warm-up seconds before each phase', '3')
  .option('--connections <n>', 'concurrent clients', '64')
  .option('--value-bytes <n>', 'znode value size', '256')
  .option('--znodes <n>', 'large-tree phase: znodes to write before the restart/RSS check (0 = skip)', '1000000')
  .option('--read-seconds <s>', 'large-tree phase: seconds of random reads after the restart', '5')
  .option('--no-zookeeper', 'skip the ZooKeeper comparison (on by default when /usr/share/java/zookeeper.jar exists)')
  .option('--no-java', "skip driving ZooKeeper with its own Java client (needs a JDK's java with source launch)")
  .option('--no-http', 'skip the zkgate and bare fastify phases')
  .option('--cpu-prof', 'run the zkgate child under node --cpu-prof; profiles go to bench/results/prof-<date>/', false)
  .option('--no-watches', 'skip the watch fan-out bench (bench/watch-fanout.ts)')
  .option('--watch-connections <n>', 'WebSocket connections for the watch fan-out bench', '10000')
  .option('--phases <list>', 'which load phases to run (create,set,get,mix; the bare and ZooKeeper counterparts follow)', 'create,set,get,mix')
  .option('--nice <n>', 'run the bench and every process it starts at this nice level (e.g. -10 on a machine shared with other work; needs root)', '0')
  .option('--out <file>', 'where to write the report', join(BENCH_DIR, 'RESULTS.md'))
  .option('--ensemble <n>', 'instead: the N-node ensemble bench (zkgate, ZooKeeper and etcd ×N; bench/ensemble.ts → bench/ENSEMBLE-RESULTS.md)');

const children = new Set<Child>();
async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stopChild(c)));
  children.clear();
}
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function show(r: PhaseResult): void {
  log(
    `${r.system} ${r.phase} (${r.client}): ${Math.round(r.opsPerS)} ops/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ` +
      `errors ${r.errors}, server ${r.serverCores.toFixed(2)} cores (${Math.round((r.serverCores * 1e6) / r.opsPerS)} µs/op), load-gen ${r.loadgenCores.toFixed(2)} cores` +
      (r.commits && r.phase !== 'get' ? `, ${r.commits} commits (${(r.ok / r.commits).toFixed(1)} ops each, ${r.commitMsMean?.toFixed(2)} ms each)` : ''),
  );
}

interface HttpSystems {
  zg: Child;
  zgUrl: string;
  bare: Child;
  bareUrl: string;
}

async function startHttpSystems(root: string, shape: LoadShape, profDir: string | undefined): Promise<HttpSystems> {
  const zg = await startZkgate({ dataDir: join(root, 'zkgate'), cpuProfDir: profDir });
  children.add(zg.child);
  await prepareZkgate(zg.url, shape.valueBytes);
  const bodyFile = join(root, 'get-body.json');
  writeFileSync(bodyFile, await sampleGetBody(zg.url));
  const barePort = await freePort();
  const bare = startChild('bare fastify', process.execPath, [BARE_BIN, String(barePort), bodyFile]);
  children.add(bare);
  const bareUrl = `http://127.0.0.1:${barePort}`;
  await waitUntil(bare, () => httpOk(`${bareUrl}/bare`), 120000);
  return { zg: zg.child, zgUrl: zg.url, bare, bareUrl };
}

interface ZkSystem {
  zk: ZkServer;
  clients: Client[];
}

async function startZkSystem(root: string, shape: LoadShape): Promise<ZkSystem> {
  const zk = await startZookeeper(join(root, 'zookeeper'));
  children.add(zk.child);
  let clients: Client[] = [];
  try {
    clients = await connectClients(zk.connect, shape.connections);
    await prepareZk(clients[0] as Client, shape.valueBytes);
  } catch (e) {
    closeClients(clients);
    await stopChildren([zk.child]);
    throw e;
  }
  return { zk, clients };
}

async function stopChildren(cs: Child[]): Promise<void> {
  for (const c of cs) {
    const code = await stopChild(c);
    children.delete(c);
    if (code !== 0) log(`${c.name} exited with ${code}: ${c.output().slice(-2000)}`);
  }
}

/**
 * The load phases, phase by phase: zkgate's, then right after it the same phase on each reference (the bare
 * fastify route for set and get, ZooKeeper with the Node client for all four), so that the VM's drifts in speed
 * (±20–100 % over minutes here) hit each ratio's two sides alike. ZooKeeper's Java-client phases, a second
 * reference, follow once the zkgate and bare servers are stopped.
 */
async function loadPhases(root: string, shape: LoadShape, o: Opts, stamp: string, report: Report): Promise<PhaseResult[]> {
  const out: PhaseResult[] = [];
  const wanted = (['create', 'set', 'get', 'mix'] as const).filter((p) => o.phases.split(',').includes(p));
  const profDir = o.cpuProf ? join(BENCH_DIR, 'results', `prof-${stamp}`) : undefined;
  let http: HttpSystems | undefined;
  let zk: ZkSystem | undefined;
  const run = async (f: () => Promise<PhaseResult>) => {
    const r = await f();
    show(r);
    out.push(r);
  };
  try {
    if (o.http) http = await startHttpSystems(root, shape, profDir);
    if (o.zookeeper && !zookeeperInstalled()) {
      log(ZK_MISSING_HELP);
      report.zookeeperNote = 'ZooKeeper was not installed on this machine, so the ZooKeeper ratios were not measured. ' + ZK_MISSING_HELP.replace(/\n/g, ' ');
    } else if (o.zookeeper) {
      // A ZooKeeper that does not come up costs the ZooKeeper ratios, not zkgate's figures.
      try {
        zk = await startZkSystem(root, shape);
      } catch (e) {
        const msg = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim().slice(0, 300);
        log(`ZooKeeper did not start: ${msg}`);
        report.notes.push(`ZooKeeper did not start (${msg}), so the ZooKeeper ratios were not measured in this run.`);
      }
    }
    const bareOf: Partial<Record<ZkPhase, HttpPhase>> = { set: 'bare-put', get: 'bare-get' };
    for (const phase of wanted) {
      if (http) {
        const h = http;
        await run(() => runHttpPhase('zkgate', phase, h.zgUrl, shape, () => cpuSeconds(h.zg.pid)));
        const bare = bareOf[phase];
        if (bare) await run(() => runHttpPhase('bare-fastify', bare, h.bareUrl, shape, () => cpuSeconds(h.bare.pid)));
      }
      if (zk) {
        const z = zk;
        await run(() => runZkPhase(z.clients, phase, shape, () => cpuSeconds(z.zk.child.pid), z.zk.port));
      }
    }
    if (http) await stopChildren([http.zg, http.bare]);
    http = undefined;
    if (profDir && o.http) log(`zkgate CPU profile written under ${profDir}`);
    if (zk && o.java) {
      closeClients(zk.clients.splice(0));
      try {
        for (const r of await runJavaZkPhases(zk.zk.connect, wanted, shape, zk.zk.child.pid, zk.zk.port)) {
          show(r);
          out.push(r);
        }
      } catch (e) {
        // A JRE without the compiler cannot run ZkLoad.java from source; the Node client's figures still stand.
        report.notes.push(`ZooKeeper's Java client could not be run (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); only the Node client drove ZooKeeper.`);
      }
    }
  } finally {
    if (zk) {
      closeClients(zk.clients.splice(0));
      await stopChildren([zk.zk.child]);
    }
    if (http) await stopChildren([http.zg, http.bare]);
  }
  return out;
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Opts>();
  const ensemble = program.opts<{ ensemble?: string }>().ensemble;
  if (ensemble !== undefined) {
    // `npm run bench -- --ensemble 3`: the ensemble bench is its own program; run it with the shared flags.
    const { spawnSync } = await import('node:child_process');
    const args = [fileURLToPath(new URL('./ensemble.js', import.meta.url)), '--size', ensemble, '--duration', String(o.duration)];
    if (Number(o.nice) !== 0) args.push('--nice', String(o.nice));
    const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const shape: LoadShape = { connections: Number(o.connections), durationS: Number(o.duration), warmupS: Number(o.warmup), valueBytes: Number(o.valueBytes) };
  // Children inherit the priority, so the servers and the load generator all get it.
  if (Number(o.nice) !== 0) {
    setPriority(0, Number(o.nice));
    // With the kernel's autogroup scheduling a nice level only counts within this session's group; the group's own
    // nice is what competes with other sessions' processes.
    try {
      writeFileSync('/proc/self/autogroup', String(Number(o.nice)));
    } catch {
      /* no autogroup on this kernel, or not allowed: the process nice level still applies */
    }
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const root = mkdtempSync(join(tmpdir(), 'zkgate-bench-'));
  const report: Report = {
    date: new Date().toISOString(),
    commit: commitOf(BENCH_DIR),
    command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
    machine: machine(root),
    nice: Number(o.nice),
    load1Start: load1(),
    load1End: NaN,
    shape,
    phases: [],
    interleaved: true,
    notes: [],
  };
  log(`load average (1 min) at start: ${report.load1Start.toFixed(2)}; temp dir ${root}`);
  try {
    report.phases.push(...(await loadPhases(root, shape, o, stamp, report)));
    const n = Number(o.znodes);
    if (n > 0) {
      log(`large tree: writing ${n} znodes, then restarting`);
      report.znodes = await optional(report, 'large-tree', () => runZnodesPhase(join(root, 'big'), n, shape.valueBytes, Number(o.readSeconds), shape.connections, o.cpuProf ? join(BENCH_DIR, 'results', `prof-${stamp}-restart`) : undefined));
      log(`large tree: ${JSON.stringify(report.znodes)}`);
    }
    if (o.watches) {
      log(`watch fan-out: ${o.watchConnections} WebSocket connections`);
      report.watches = await optional(report, 'watch fan-out', () => runWatchBench({ connections: Number(o.watchConnections), log: (l) => log(`watches: ${l}`) }));
      log(`watches: ${JSON.stringify(report.watches)}`);
    }
  } finally {
    await stopAll();
    rmSync(root, { recursive: true, force: true });
  }
  report.load1End = load1();
  report.notes.push(...autoNotes(report));
  const resultsDir = join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify(report, null, 2));
  writeFileSync(o.out, render(report, o.out));
  log(`load average (1 min) at end: ${report.load1End.toFixed(2)}; wrote ${o.out} and ${join(resultsDir, stamp + '.json')}`);
}

/** Runs a later phase so that its failure is reported in the notes instead of losing the figures already taken. */
async function optional<T>(report: Report, name: string, f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    log(`${name} phase failed: ${e instanceof Error ? e.stack : msg}`);
    report.notes.push(`The ${name} phase failed: ${msg}`);
    await stopAll();
    return undefined;
  }
}

/** What the CPU figures say about where each phase's bottleneck was. */
function autoNotes(r: Report): string[] {
  const cores = r.machine.cores;
  const notes = [
    `Server, load generator and (for ZooKeeper) the JVM share ${cores} cores. "server CPU" and "load-gen CPU" are measured from /proc over each measured window; ` +
      `when they add up to about ${cores}, the machine is saturated and the load generator's share is taken from the server.`,
  ];
  const genBound = r.phases.filter((p) => p.loadgenCores > 0.9);
  if (genBound.length > 0) {
    notes.push(
      `Load generator at ≥ 0.9 of a core (it is single-threaded, so this is its ceiling) in: ${genBound.map((p) => `${p.system} ${p.phase} (${p.client})`).join(', ')}. ` +
        'Those figures are bounded by the generator, not (only) by the server.',
    );
  }
  if (r.load1Start > 1 || r.load1End > 1) notes.push(`The 1-minute load average was above 1 (${r.load1Start.toFixed(2)} → ${r.load1End.toFixed(2)}): other work shared the CPUs; treat absolute figures as noisy. Ratios within one run are steadier.`);
  return notes;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch(async (e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    await stopAll();
    process.exit(1);
  });
}
