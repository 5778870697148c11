// HTTP load with autocannon in this process: create / set / get / 90-10 mix against zkgate's REST API,
// and get / put against the bare fastify baseline. Latencies are taken from every response (sub-ms precision).
import autocannon, { type Request, type RequestSpec } from 'autocannon';
import { commitCounters, cpuMeter, Latencies, type PhaseResult } from './stats.js';

export interface LoadShape {
  connections: number;
  durationS: number;
  warmupS: number;
  valueBytes: number;
}

/** A 256-byte (or `n`-byte) ASCII value, so getData answers it as utf8 like a typical config value. */
export function value(n: number): Buffer {
  return Buffer.alloc(n, 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(n / 36)).slice(0, n));
}

/** Number of pre-created znodes that set, get and mix spread over. */
export const HOT_NODES = 1000;
export const HOT_PARENT = '/bench/hot';
export const CREATE_PARENT = '/bench/c';

export type HttpPhase = 'create' | 'set' | 'get' | 'mix' | 'bare-get' | 'bare-put';

export function requestsFor(phase: HttpPhase, body: Buffer, tag: string): RequestSpec[] {
  let n = 0;
  const hot = (i: number) => `/v1/znodes${HOT_PARENT}/n${i % HOT_NODES}`;
  const put = (path: string): Request => ({ method: 'PUT', path, body, headers: { 'content-type': 'application/octet-stream' } });
  const get = (path: string): Request => ({ method: 'GET', path, headers: {} });
  switch (phase) {
    case 'create':
      return [{ ...put(''), method: 'POST', setupRequest: () => ({ method: 'POST', path: `/v1/znodes${CREATE_PARENT}/${tag}-${n++}`, body, headers: { 'content-type': 'application/octet-stream' } }) }];
    // Static request lists, built once by autocannon and cycled through, as the bare baseline's single request is:
    // rebuilding each request in a setupRequest cost the load generator more CPU per request than the baseline's
    // load did, on the same two cores as the server.
    case 'set':
      return hotNodes((i) => put(hot(i)));
    case 'get':
      return hotNodes((i) => get(hot(i)));
    case 'mix':
      // Exactly one write in ten, spread over the same nodes the reads hit.
      return hotNodes((i) => (i % 10 === 9 ? put(hot(i * 7)) : get(hot(i))));
    case 'bare-get':
      return [{ ...get('/bare') }];
    case 'bare-put':
      return [{ ...put('/bare') }];
  }
}

function hotNodes(make: (i: number) => Request): RequestSpec[] {
  return Array.from({ length: HOT_NODES }, (_, i) => make(i));
}

/**
 * Runs autocannon and measures the run's wall time and CPU (`serverCpu` reads the server's CPU seconds). The window
 * opens once autocannon has returned: it builds every client's copy of the request list synchronously before its
 * first request (0.5–1.1 s for 64 × 1,000 requests here), and a window opened before that counted the pause as
 * time without answers; a one-request list (the bare baseline's) has no such pause, which made every list-driven
 * phase look slower than it ran.
 */
async function fire(url: string, shape: LoadShape, durationS: number, requests: RequestSpec[], lat: Latencies | null, serverCpu: () => number = () => 0) {
  const inst = autocannon({ url, connections: shape.connections, pipelining: 1, duration: durationS, timeout: 10, requests });
  const meter = cpuMeter(serverCpu);
  if (lat) {
    inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status < 300) lat.record(ms);
    });
  }
  const r = await inst;
  return { r, cpu: meter() };
}

/** Warms up, then measures one phase for `shape.durationS`. `serverCpu` reads the server's CPU seconds. */
export async function runHttpPhase(
  system: string,
  phase: HttpPhase,
  url: string,
  shape: LoadShape,
  serverCpu: () => number,
): Promise<PhaseResult> {
  const body = value(shape.valueBytes);
  const tag = `${phase}-${process.pid}-${Date.now().toString(36)}`;
  if (shape.warmupS > 0) await fire(url, shape, shape.warmupS, requestsFor(phase, body, tag + 'w'), null);
  const zkgate = system === 'zkgate';
  const c0 = zkgate ? await commitCounters(url) : undefined;
  const lat = new Latencies();
  const { r, cpu } = await fire(url, shape, shape.durationS, requestsFor(phase, body, tag), lat, serverCpu);
  const c1 = zkgate ? await commitCounters(url) : undefined;
  const [p50, p99] = lat.percentiles([50, 99]);
  const ok = r['2xx'];
  return {
    system,
    phase: phase.replace(/^bare-/, ''),
    client: 'autocannon',
    connections: shape.connections,
    durationS: cpu.wallS,
    ok,
    errors: r.errors + r.non2xx,
    opsPerS: ok / cpu.wallS,
    p50Ms: p50 as number,
    p99Ms: p99 as number,
    serverCores: cpu.serverCores,
    loadgenCores: cpu.loadgenCores,
    ...(c0 && c1 ? { commits: c1.count - c0.count, commitMsMean: ((c1.sumS - c0.sumS) / Math.max(1, c1.count - c0.count)) * 1000 } : {}),
  };
}
