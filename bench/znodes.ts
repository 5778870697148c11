// The large-tree phase: fill a data dir with N znodes through the REST API (multi batches, several in flight),
// restart zkgate on it as a fresh child, and measure spawn → first successful read, and RSS after start and
// after reading across the whole tree (the data must live in LMDB, not in the heap). Then the same after a crash:
// SIGKILL under sets, so that the restart replays the write-ahead log's tail.
import { execFileSync } from 'node:child_process';
import autocannon, { type Instance } from 'autocannon';
import { httpOk, rssMb, rssSplitMb, sleep, stopChild, waitUntil, type Child } from './procs.js';
import { value } from './http-load.js';
import { Latencies } from './stats.js';
import { spawnZkgate, START_TIMEOUT_MS } from './zkgate.js';
import { freePort } from './procs.js';

export interface ZnodesResult {
  znodes: number;
  valueBytes: number;
  fillS: number;
  fillPerS: number;
  dataDirMb: number;
  rssAfterFillMb: number;
  /** Control: spawn of the first process on an empty data dir → first 200 on a getData of /. */
  emptyStartToFirstReadMs: number;
  /** Spawn of the restarted process → first 200 on a getData of a deep node. */
  restartToFirstReadMs: number;
  rssAfterStartMb: number;
  readOps: number;
  readOpsPerS: number;
  readErrors: number;
  readP50Ms: number;
  readP99Ms: number;
  rssAfterReadsMb: number;
  /** The same, split: anonymous memory vs file-backed pages (LMDB's map; absent in runs before this field). */
  rssAnonAfterReadsMb?: number;
  rssFileAfterReadsMb?: number;
  serverZnodeCount: number;
  /** After a SIGKILL under sets (absent in runs before these fields). */
  crash?: CrashResult;
}

export interface CrashResult {
  /** Sets answered before the kill, and the write-ahead log's size on disk then. */
  setsAcked: number;
  walMb: number;
  /** Spawn of the process that recovers → first successful getData of a deep node. */
  restartToFirstReadMs: number;
  /** The recovering process's most resident memory until then (VmHWM), and its RSS just after. */
  peakRssMb: number;
  rssAfterStartMb: number;
  serverZnodeCount: number;
}

/** Seconds of sets before the SIGKILL: long enough for the log to hold tens of MB that LMDB has not yet flushed. */
const CRASH_AFTER_S = 10;

/** Children per directory node, so no parent grows a huge child list. */
const FANOUT = 1000;
/** Creates per multi request (one request stays well under jute.maxbuffer at 256-byte values). */
const BATCH = 1000;
/** Multi requests in flight while filling. */
const IN_FLIGHT = 4;

async function multi(url: string, ops: unknown[]): Promise<void> {
  const r = await fetch(`${url}/v1/multi`, { method: 'POST', body: JSON.stringify({ ops }), headers: { 'content-type': 'application/json' } });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`multi: ${r.status} ${text.slice(0, 300)}`);
}

export const nodePath = (i: number) => `/big/d${Math.floor(i / FANOUT)}/n${i % FANOUT}`;

export async function fill(url: string, n: number, valueBytes: number): Promise<void> {
  const data = value(valueBytes).toString('utf8');
  const dirs = Math.ceil(n / FANOUT);
  await multi(url, [{ op: 'create', path: '/big' }]);
  for (let d = 0; d < dirs; d += BATCH) {
    await multi(url, Array.from({ length: Math.min(BATCH, dirs - d) }, (_, k) => ({ op: 'create', path: `/big/d${d + k}` })));
  }
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const start = next;
      next = Math.min(n, next + BATCH);
      const ops = [];
      for (let i = start; i < next; i++) ops.push({ op: 'create', path: nodePath(i), data });
      await multi(url, ops);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/** Megabytes `du` counts under `dir`. */
export function duMb(dir: string): number {
  return Number(execFileSync('du', ['-sm', dir], { encoding: 'utf8' }).split('\t')[0]);
}

/** getData of nodes spread over the filled tree for `seconds`: answered reads, their rate and latency, and failures. */
export async function randomReads(url: string, n: number, seconds: number, connections: number) {
  let i = 0;
  const inst = autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ method: 'GET', path: `/v1/znodes${nodePath(0)}`, headers: {}, setupRequest: () => ({ method: 'GET', path: `/v1/znodes${nodePath((i++ * 7919) % n)}`, headers: {} }) }],
  });
  const lat = new Latencies();
  inst.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
    if (status < 300) lat.record(ms);
  });
  const r = await inst;
  const [p50Ms, p99Ms] = lat.percentiles([50, 99]) as [number, number];
  return { ops: r['2xx'], perS: r['2xx'] / r.duration, p50Ms, p99Ms, errors: r.errors + r.non2xx };
}

/** setData of nodes spread over the filled tree for up to `seconds` (stop it to end sooner); `acked` per 200. */
export function randomSets(url: string, n: number, valueBytes: number, connections: number, seconds: number, acked: () => void): Instance {
  const body = value(valueBytes);
  let i = 0;
  const inst = autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ method: 'PUT', path: `/v1/znodes${nodePath(0)}`, body, setupRequest: () => ({ method: 'PUT', path: `/v1/znodes${nodePath((i++ * 7919) % n)}`, body, headers: {} }) }],
  });
  inst.on('response', (_c: unknown, status: number) => {
    if (status === 200) acked();
  });
  return inst;
}

export async function znodeCount(url: string): Promise<number> {
  const r = await fetch(`${url}/v1/admin/mntr`);
  const j = (await r.json()) as Record<string, unknown>;
  return Number(j['zk_znode_count']);
}

export async function runZnodesPhase(dataDir: string, n: number, valueBytes: number, readS: number, connections: number, cpuProfDir?: string): Promise<ZnodesResult> {
  const firstPort = await freePort();
  const firstUrl = `http://127.0.0.1:${firstPort}`;
  const first = { child: spawnZkgate({ dataDir }, firstPort), url: firstUrl };
  const t0 = { ms: 0 };
  let emptyStartToFirstReadMs = 0;
  try {
    await waitUntil(first.child, () => httpOk(`${firstUrl}/v1/znodes/`), START_TIMEOUT_MS, 2);
    emptyStartToFirstReadMs = performance.now() - first.child.spawnedAtMs;
    t0.ms = performance.now();
    await fill(first.url, n, valueBytes);
  } catch (e) {
    await stopChild(first.child);
    throw e;
  }
  const fillS = (performance.now() - t0.ms) / 1000;
  const rssAfterFillMb = rssMb(first.child.pid);
  const code = await stopChild(first.child);
  if (code !== 0) throw new Error(`zkgate exited with ${code} after the fill:\n${first.child.output()}`);
  const dataDirMb = duMb(dataDir);

  // The page cache still holds the file; that is the common restart case (process restart, not a reboot).
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const probe = `${url}/v1/znodes${nodePath(Math.floor(n / 2))}`;
  const child = spawnZkgate({ dataDir, cpuProfDir }, port);
  try {
    await waitUntil(child, () => httpOk(probe), START_TIMEOUT_MS, 2);
    const restartToFirstReadMs = performance.now() - child.spawnedAtMs;
    await sleep(200);
    const rssAfterStartMb = rssMb(child.pid);
    const reads = await randomReads(url, n, readS, connections);
    const split = rssSplitMb(child.pid);
    const rssAfterReadsMb = split.rssMb;
    const serverZnodeCount = await znodeCount(url);
    const crash = await crashAndRestart(dataDir, child, url, n, valueBytes, connections);
    return {
      znodes: n,
      valueBytes,
      fillS,
      emptyStartToFirstReadMs,
      fillPerS: n / fillS,
      dataDirMb,
      rssAfterFillMb,
      restartToFirstReadMs,
      rssAfterStartMb,
      readOps: reads.ops,
      readOpsPerS: reads.perS,
      readErrors: reads.errors,
      readP50Ms: reads.p50Ms,
      readP99Ms: reads.p99Ms,
      rssAfterReadsMb,
      rssAnonAfterReadsMb: split.anonMb,
      rssFileAfterReadsMb: split.fileMb,
      serverZnodeCount,
      crash,
    };
  } finally {
    await stopChild(child);
  }
}

/** Sets on random nodes of the tree, SIGKILL of `child` in their midst, then a restart on the same data dir. */
async function crashAndRestart(dataDir: string, child: Child, url: string, n: number, valueBytes: number, connections: number): Promise<CrashResult> {
  let setsAcked = 0;
  const inst = randomSets(url, n, valueBytes, connections, CRASH_AFTER_S + 2, () => setsAcked++);
  await sleep(CRASH_AFTER_S * 1000);
  child.proc.kill('SIGKILL');
  await child.exited;
  const acked = setsAcked;
  const walMb = duMb(`${dataDir}/wal`);
  inst.stop();
  await inst;
  const port = await freePort();
  const againUrl = `http://127.0.0.1:${port}`;
  const again = spawnZkgate({ dataDir }, port);
  try {
    await waitUntil(again, () => httpOk(`${againUrl}/v1/znodes${nodePath(Math.floor(n / 3))}`), START_TIMEOUT_MS, 2);
    const restartToFirstReadMs = performance.now() - again.spawnedAtMs;
    await sleep(200);
    const mem = rssSplitMb(again.pid);
    return {
      setsAcked: acked,
      walMb,
      restartToFirstReadMs,
      peakRssMb: mem.peakMb,
      rssAfterStartMb: mem.rssMb,
      serverZnodeCount: await znodeCount(againUrl),
    };
  } finally {
    await stopChild(again);
  }
}
