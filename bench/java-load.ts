// Drives bench/java/ZkLoad.java (ZooKeeper's own Java client) as a child JVM and turns its START/RESULT lines
// into phase results, measuring the server's and the generator's CPU over exactly the measured windows.
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { cpuSeconds, startChild } from './procs.js';
import type { LoadShape } from './http-load.js';
import type { PhaseResult } from './stats.js';
import { zkClasspath, zkFsyncCounters } from './zookeeper.js';

/** From dist/bench/ back to the source file in the checkout. */
const SOURCE = fileURLToPath(new URL('../../bench/java/ZkLoad.java', import.meta.url));

export async function runJavaZkPhases(connect: string, phases: string[], shape: LoadShape, serverPid: number, zkPort: number): Promise<PhaseResult[]> {
  const child = startChild('java ZkLoad', '/usr/bin/java', [
    '-Xmx512m',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=error',
    '-cp',
    zkClasspath(),
    SOURCE,
    connect,
    String(shape.connections),
    String(shape.durationS),
    String(shape.warmupS),
    String(shape.valueBytes),
    phases.join(','),
  ]);
  const out: PhaseResult[] = [];
  let mark: { t: number; server: number; gen: number; fsyncs: { count: number; sumMs: number } } | undefined;
  const lines = createInterface({ input: child.proc.stdout! });
  for await (const line of lines) {
    if (line.startsWith('START ')) {
      const fsyncs = await zkFsyncCounters(zkPort);
      mark = { t: performance.now(), server: cpuSeconds(serverPid), gen: cpuSeconds(child.pid), fsyncs };
    } else if (line.startsWith('RESULT ') && mark) {
      const wallS = (performance.now() - mark.t) / 1000;
      const f1 = await zkFsyncCounters(zkPort);
      const commits = f1.count - mark.fsyncs.count;
      const r = JSON.parse(line.slice(7)) as { phase: string; ok: number; errors: number; durationS: number; p50Ms: number; p99Ms: number };
      out.push({
        system: 'zookeeper',
        phase: r.phase,
        client: 'java-zookeeper-client',
        connections: shape.connections,
        durationS: r.durationS,
        ok: r.ok,
        errors: r.errors,
        opsPerS: r.ok / r.durationS,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        serverCores: (cpuSeconds(serverPid) - mark.server) / wallS,
        loadgenCores: (cpuSeconds(child.pid) - mark.gen) / wallS,
        ...(Number.isFinite(commits) && commits > 0 ? { commits, commitMsMean: (f1.sumMs - mark.fsyncs.sumMs) / commits } : {}),
      });
    }
  }
  const code = await child.exited;
  if (code !== 0) throw new Error(`java ZkLoad exited with ${code}:\n${child.output()}`);
  return out;
}
