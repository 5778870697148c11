// Closed-loop HTTP load spread over several servers of one cluster: one autocannon instance per URL in this
// process, the connections divided between them, latencies from every response pooled into one distribution.
import autocannon, { type RequestSpec } from 'autocannon';
import type { LoadShape } from './http-load.js';
import { cpuSeconds } from './procs.js';
import { commitCounters, cpuMeter, Latencies, type PhaseResult } from './stats.js';

export interface SpreadPhase {
  system: string;
  phase: string;
  /** Shown in the table's client column, e.g. "autocannon ×3 nodes". */
  client: string;
  urls: string[];
  /** Fresh requests for the i-th URL (each call gets its own counters and tags). */
  requests: (urlIndex: number, tag: string) => RequestSpec[];
  /** The processes whose CPU counts as "server". */
  pids: () => number[];
  /** zkgate: read the durable-commit counters from this node's /metrics (the leader's). */
  commitsFrom?: string;
}

/** Sum of the CPU seconds of all `pids`; a process that has gone counts nothing from then on. */
export function cpuOf(pids: () => number[]): () => number {
  return () => {
    let s = 0;
    for (const p of pids()) {
      try {
        s += cpuSeconds(p);
      } catch {
        /* exited */
      }
    }
    return s;
  };
}

function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Runs the autocannons and measures them from when all have returned (see http-load.ts's fire: building clients is not load). */
async function fire(p: SpreadPhase, shape: LoadShape, durationS: number, tag: string, lat: Latencies | null) {
  const conns = split(shape.connections, p.urls.length);
  const runs = p.urls.map((url, i) => {
    if (conns[i] === 0) return Promise.resolve({ ok: 0, bad: 0 });
    const inst = autocannon({ url, connections: conns[i], pipelining: 1, duration: durationS, timeout: 10, requests: p.requests(i, `${tag}-${i}`) });
    if (lat) {
      inst.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
        if (status < 300) lat.record(ms);
      });
    }
    return inst.then((r) => ({ ok: r['2xx'], bad: r.errors + r.non2xx }));
  });
  const meter = cpuMeter(cpuOf(p.pids));
  const all = await Promise.all(runs);
  return { ok: all.reduce((a, r) => a + r.ok, 0), errors: all.reduce((a, r) => a + r.bad, 0), cpu: meter() };
}

/** Warms up for `shape.warmupS`, then measures for `shape.durationS`. */
export async function runSpreadPhase(p: SpreadPhase, shape: LoadShape): Promise<PhaseResult> {
  const tag = `${p.phase}-${process.pid}-${Date.now().toString(36)}`;
  if (shape.warmupS > 0) await fire(p, shape, shape.warmupS, `${tag}w`, null);
  const c0 = p.commitsFrom ? await commitCounters(p.commitsFrom) : undefined;
  const lat = new Latencies();
  const r = await fire(p, shape, shape.durationS, tag, lat);
  const cpu = r.cpu;
  const c1 = p.commitsFrom ? await commitCounters(p.commitsFrom) : undefined;
  const [p50, p99] = lat.percentiles([50, 99]);
  return {
    system: p.system,
    phase: p.phase,
    client: p.client,
    connections: shape.connections,
    durationS: cpu.wallS,
    ok: r.ok,
    errors: r.errors,
    opsPerS: r.ok / cpu.wallS,
    p50Ms: p50 as number,
    p99Ms: p99 as number,
    serverCores: cpu.serverCores,
    loadgenCores: cpu.loadgenCores,
    ...(c0 && c1 && c1.count > c0.count ? { commits: c1.count - c0.count, commitMsMean: ((c1.sumS - c0.sumS) / (c1.count - c0.count)) * 1000 } : {}),
  };
}
