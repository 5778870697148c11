// Watch fan-out bench: a zkgate server process and a separate client process holding N WebSockets (default 10,000),
// each watching its own node and one node watched by all. This process does the timed writes (so the response is
// timed by a process not busy reading 10,000 sockets) and measures write SEND → last event and write response → last
// event (p50/p99), server and client CPU per write, and the server's RSS with 100,000 persistent watches, both over
// the N connections and spread over fewer (default 1,000 × 100) on a fresh server. Usage:
// node dist/bench/watch-fanout.js [connections] [fanoutWrites] [spreadConnections] [spreadWatchesPerConnection]
import { fork, type ChildProcess } from 'node:child_process';
import { request, Agent } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort, httpOk, rssMb, startChild, stopChild, waitUntil, type Child } from './procs.js';
import { Latencies } from './stats.js';
import { ZKGATE_BIN } from './zkgate.js';
import { SERVER_NODE_FLAGS } from '../server/node-flags.js';

export interface WatchBenchOptions {
  /** WebSocket connections (each watches its own node and the shared one). */
  connections?: number;
  /** Timed writes to the node all connections watch. */
  fanoutWrites?: number;
  /** Timed writes to single-watcher nodes. */
  singleWrites?: number;
  /** Persistent watches per connection in the memory phase (10 × 10,000 = 100,000). */
  watchesPerConnection?: number;
  /** The spread memory phase on a fresh server: connections × watches each (default 1,000 × 100; 0 skips it). */
  spreadConnections?: number;
  spreadWatchesPerConnection?: number;
  /** Extra node flags for the server process (e.g. --cpu-prof); the CLI takes them from WATCH_BENCH_SERVER_FLAGS. */
  serverNodeArgs?: string[];
  log?: (line: string) => void;
}

export interface LatencySummary {
  writes: number;
  fromSendP50Ms: number;
  fromSendP99Ms: number;
  fromResponseP50Ms: number;
  fromResponseP99Ms: number;
  /** CPU the server process used per timed write (ms), the figure least disturbed by other load on the machine. */
  serverCpuMsPerWrite: number;
  /** The kernel's share of it: on loopback the server's send also runs the receiving side's TCP processing. */
  serverSysCpuMsPerWrite: number;
  /** CPU the client process (reading every event) used per timed write (ms). */
  clientCpuMsPerWrite: number;
}

export interface MemoryFigures {
  connections: number;
  watches: number;
  rssBaselineMb: number;
  rssWithConnectionsMb: number;
  rssWithWatchesMb: number;
  /** The same after SETTLE_MS idle (V8 returns free heap after a quiet spell): the steady cost of holding them. */
  rssWithWatchesSettledMb: number;
  /** The server's own view when settled (its /metrics): V8 heap used and reserved, and memory outside the heap. */
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

export interface WatchBenchResult {
  connections: number;
  fanout: LatencySummary;
  single: LatencySummary;
  /** 100,000 persistent watches over the `connections` connections. */
  memory: MemoryFigures;
  /** The same watch count spread over fewer connections, on a fresh server (absent when skipped). */
  spreadMemory?: MemoryFigures;
  /** 1-minute load average when the bench started and ended (the machine is shared). */
  load1: { start: number; end: number };
}

const here = fileURLToPath(new URL('.', import.meta.url));
const PREFIX = '/bench/w';
const HOT = '/bench/hot';
const round = (n: number) => Math.round(n * 100) / 100;
/** Wall-clock milliseconds with sub-ms resolution, comparable with the client process's. */
const wallMs = () => performance.timeOrigin + performance.now();
const load1 = () => round(loadavg()[0] as number);

type Reply = Record<string, unknown>;

/** System (kernel) CPU seconds of a process, from /proc/<pid>/stat (field 15, clock ticks of 10 ms). */
function sysCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) / 100;
}

function next(child: ChildProcess): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: Reply) => {
      child.off('exit', onExit);
      if (m.ok === false) reject(new Error(`bench client: ${String(m.error)}`));
      else resolve(m);
    };
    const onExit = (code: number | null) => reject(new Error(`bench client exited (${code})`));
    child.once('message', onMsg);
    child.once('exit', onExit);
  });
}

function ask(child: ChildProcess, msg: Reply): Promise<Reply> {
  const r = next(child);
  child.send(msg);
  return r;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function put(url: string, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url + '/v1/znodes' + path, { method: 'PUT', agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function multiCreate(url: string, paths: string[]): Promise<void> {
  for (let i = 0; i < paths.length; i += 1000) {
    const ops = paths.slice(i, i + 1000).map((path) => ({ op: 'create', path }));
    const r = await fetch(url + '/v1/multi', { method: 'POST', body: JSON.stringify({ ops }), headers: { 'content-type': 'application/json' } });
    if (!r.ok) throw new Error(`creating bench nodes: ${r.status} ${await r.text()}`);
  }
}

/** `writes` sequential timed writes; `pathOf(k)` is the k-th write's node, watched by `events` connections. */
async function timedWrites(s: Setup, writes: number, events: number, pathOf: (k: number) => string): Promise<LatencySummary> {
  const fromSend = new Latencies();
  const fromResponse = new Latencies();
  const server0 = cpuSeconds(s.server.pid);
  const sys0 = sysCpuSeconds(s.server.pid);
  const client0 = Number((await ask(s.client, { cmd: 'cpu' })).cpuMs);
  for (let k = 0; k < writes; k++) {
    await ask(s.client, { cmd: 'expect', events });
    const last = next(s.client);
    const sentAt = wallMs();
    await put(s.url, pathOf(k), 'x');
    const respondedAt = wallMs();
    const lastAt = Number((await last).lastAtMs);
    fromSend.record(lastAt - sentAt);
    fromResponse.record(lastAt - respondedAt);
  }
  const serverCpuMs = (cpuSeconds(s.server.pid) - server0) * 1000;
  const serverSysMs = (sysCpuSeconds(s.server.pid) - sys0) * 1000;
  const clientCpuMs = Number((await ask(s.client, { cmd: 'cpu' })).cpuMs) - client0;
  const [s50, s99] = fromSend.percentiles([50, 99]).map(round);
  const [r50, r99] = fromResponse.percentiles([50, 99]).map(round);
  return {
    writes,
    fromSendP50Ms: s50 as number,
    fromSendP99Ms: s99 as number,
    fromResponseP50Ms: r50 as number,
    fromResponseP99Ms: r99 as number,
    serverCpuMsPerWrite: round(serverCpuMs / writes),
    serverSysCpuMsPerWrite: round(serverSysMs / writes),
    clientCpuMsPerWrite: round(clientCpuMs / writes),
  };
}

interface Setup {
  dir: string;
  url: string;
  server: Child;
  client: ChildProcess;
  rssBaselineMb: number;
}

/** A fresh server with `n` nodes under PREFIX, and a client process holding `n` open WebSockets. */
async function setUp(n: number, perConn: number, nodeArgs: string[], log: (l: string) => void): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'zkgate-watch-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The per-IP and total connection limits are raised for the bench: every client comes from 127.0.0.1.
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [`dataDir=${join(dir, 'data')}`, `httpPort=${port}`, `wsMaxConnectionsPerIp=${n + 100}`, `wsMaxConnections=${n + 100}`, `wsMaxWatchesPerConnection=${perConn + 10}`].join('\n'),
  );
  const server = startChild('zkgate', process.execPath, [...SERVER_NODE_FLAGS, ...nodeArgs, ZKGATE_BIN, 'server', '--config', join(dir, 'zoo.cfg'), '--log-level', 'warn']);
  let client: ChildProcess | undefined;
  try {
    await waitUntil(server, () => httpOk(url + '/v1/admin/ruok'), 20000);
    await multiCreate(url, ['/bench', PREFIX, HOT]);
    await multiCreate(url, Array.from({ length: n }, (_x, i) => `${PREFIX}/n${i}`));
    const rssBaselineMb = rssMb(server.pid);
    client = fork(join(here, 'watch-fanout-clients.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    log(`watch bench: opening ${n} WebSockets (load ${load1()})`);
    await ask(client, { cmd: 'open', url, connections: n, concurrency: 100 });
    return { dir, url, server, client, rssBaselineMb };
  } catch (e) {
    client?.kill('SIGKILL');
    await stopChild(server);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function tearDown(s: Setup): Promise<void> {
  if (s.client.exitCode === null) await ask(s.client, { cmd: 'exit' }).catch(() => s.client.kill('SIGKILL'));
  await stopChild(s.server);
  rmSync(s.dir, { recursive: true, force: true });
}

/** How long the server idles before the settled RSS reading (V8's memory reducer acts after ~8 s without work). */
const SETTLE_MS = 20_000;

async function watchUpTo(s: Setup, perConnection: number) {
  await ask(s.client, { cmd: 'watch', hot: HOT, prefix: PREFIX, perConnection });
  const wchs = (await (await fetch(s.url + '/v1/admin/wchs')).json()) as { numTotalWatches: number };
  const rssNow = round(rssMb(s.server.pid));
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const metrics = await (await fetch(s.url + '/metrics')).text();
  const mb = (name: string) => round(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 1048576);
  return {
    watches: wchs.numTotalWatches,
    rssWithWatchesMb: rssNow,
    rssWithWatchesSettledMb: round(rssMb(s.server.pid)),
    heapUsedMb: mb('nodejs_heap_size_used_bytes'),
    heapTotalMb: mb('nodejs_heap_size_total_bytes'),
    externalMb: mb('nodejs_external_memory_bytes'),
  };
}

export async function runWatchBench(opts: WatchBenchOptions = {}): Promise<WatchBenchResult> {
  const n = opts.connections ?? 10_000;
  const perConn = opts.watchesPerConnection ?? 10;
  const spreadN = opts.spreadConnections ?? 1000;
  const spreadPer = opts.spreadWatchesPerConnection ?? 100;
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const load1Start = load1();

  const s = await setUp(n, perConn, opts.serverNodeArgs ?? [], log);
  let result: Omit<WatchBenchResult, 'load1' | 'spreadMemory'>;
  try {
    await ask(s.client, { cmd: 'watch', hot: HOT, prefix: PREFIX, perConnection: 2 });
    const rssWithConnectionsMb = round(rssMb(s.server.pid));
    log(`watch bench: ${n} connections × 2 watches; timing writes (load ${load1()})`);
    const fanout = await timedWrites(s, opts.fanoutWrites ?? 50, n, () => HOT);
    log(`watch bench: fan-out ${JSON.stringify(fanout)} (load ${load1()})`);
    const single = await timedWrites(s, opts.singleWrites ?? 500, 1, (k) => `${PREFIX}/n${(k * 7919) % n}`);
    log(`watch bench: adding watches up to ${perConn} per connection (load ${load1()})`);
    const w = await watchUpTo(s, perConn);
    const memory = { connections: n, rssBaselineMb: round(s.rssBaselineMb), rssWithConnectionsMb, ...w };
    log(`watch bench: memory ${JSON.stringify(memory)}`);
    result = { connections: n, fanout, single, memory };
  } finally {
    await tearDown(s);
  }

  let spreadMemory: MemoryFigures | undefined;
  if (spreadN > 0) {
    const t = await setUp(spreadN, spreadPer, opts.serverNodeArgs ?? [], log);
    try {
      const rssWithConnectionsMb = round(rssMb(t.server.pid));
      log(`watch bench: ${spreadN} connections × ${spreadPer} watches (load ${load1()})`);
      const w = await watchUpTo(t, spreadPer);
      spreadMemory = { connections: spreadN, rssBaselineMb: round(t.rssBaselineMb), rssWithConnectionsMb, ...w };
      log(`watch bench: spread memory ${JSON.stringify(spreadMemory)}`);
    } finally {
      await tearDown(t);
    }
  }
  return { ...result, spreadMemory, load1: { start: load1Start, end: load1() } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const num = (i: number) => (process.argv[i] === undefined ? undefined : Number(process.argv[i]));
  const result = await runWatchBench({ connections: num(2), fanoutWrites: num(3), spreadConnections: num(4), spreadWatchesPerConnection: num(5),
    serverNodeArgs: process.env.WATCH_BENCH_SERVER_FLAGS?.split(' ').filter(Boolean),
  });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
