// One measured phase's figures, and a latency recorder that keeps every sample (bounded) for exact percentiles.

export interface PhaseResult {
  /** zkgate, bare-fastify, zookeeper */
  system: string;
  /** create, set, get, mix, put */
  phase: string;
  /** What generated the load (autocannon, node-zookeeper-client, java-zookeeper-client). */
  client: string;
  connections: number;
  durationS: number;
  ok: number;
  errors: number;
  opsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the server process used during the phase, in cores (1.0 = one core busy all the time). */
  serverCores: number;
  /** CPU the load generator used during the phase, in cores. */
  loadgenCores: number;
  /** zkgate only: durable group commits (write-ahead-log flushes) in the phase, from its /metrics. */
  commits?: number;
  /** zkgate only: mean wall time of one durable commit (one synchronous log write), ms. */
  commitMsMean?: number;
}

/** Reads zkgate's fsync histogram (count, sum in seconds) from /metrics. */
export async function commitCounters(url: string): Promise<{ count: number; sumS: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const count = /^zkgate_fsync_duration_seconds_count(?:\{[^}]*\})? (\S+)$/m.exec(text);
  const sum = /^zkgate_fsync_duration_seconds_sum(?:\{[^}]*\})? (\S+)$/m.exec(text);
  return { count: Number(count?.[1] ?? NaN), sumS: Number(sum?.[1] ?? NaN) };
}

/** Bound on latency samples kept per phase; beyond it every other sample is dropped (still unbiased). */
const MAX_SAMPLES = 4_000_000;

export class Latencies {
  private buf = new Float64Array(1 << 16);
  private n = 0;
  private stride = 1;
  private seen = 0;

  record(ms: number): void {
    if (this.seen++ % this.stride !== 0) return;
    if (this.n === this.buf.length) {
      if (this.buf.length >= MAX_SAMPLES) {
        // Halve: keep every other sample, and from now on record every other one.
        let j = 0;
        for (let i = 0; i < this.n; i += 2) this.buf[j++] = this.buf[i] as number;
        this.n = j;
        this.stride *= 2;
        return;
      }
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = ms;
  }

  percentiles(ps: number[]): number[] {
    if (this.n === 0) return ps.map(() => NaN);
    const sorted = this.buf.slice(0, this.n).sort();
    return ps.map((p) => sorted[Math.min(this.n - 1, Math.floor((p / 100) * this.n))] as number);
  }
}

/** Measures the CPU a phase costs: this process (the load generator) and one server process. */
export function cpuMeter(serverCpuSeconds: () => number): () => { serverCores: number; loadgenCores: number; wallS: number } {
  const t0 = performance.now();
  const me0 = process.cpuUsage();
  const s0 = serverCpuSeconds();
  return () => {
    const wallS = (performance.now() - t0) / 1000;
    const me = process.cpuUsage(me0);
    return {
      wallS,
      loadgenCores: (me.user + me.system) / 1e6 / wallS,
      serverCores: (serverCpuSeconds() - s0) / wallS,
    };
  };
}
