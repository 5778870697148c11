// The bench's arithmetic: exact latency percentiles, and RESULTS.md's target ratios (met / MISSED against the
// best reference figure) rendered from phase results.
import t from 'tap';
import { Latencies, type PhaseResult } from '../../bench/stats.js';
import { render, type Report } from '../../bench/report.js';

t.test('percentiles are the sorted samples at p% of the count', async (t) => {
  const l = new Latencies();
  for (let i = 100; i >= 1; i--) l.record(i);
  t.same(l.percentiles([50, 99, 100]), [51, 100, 100]);
  t.ok(Number.isNaN(new Latencies().percentiles([50])[0] as number), 'no samples: NaN, not 0');
});

const phase = (system: string, name: string, opsPerS: number, client = 'autocannon'): PhaseResult => ({
  system, phase: name, client, connections: 64, durationS: 10, ok: opsPerS * 10, errors: 0, opsPerS,
  p50Ms: 1, p99Ms: 2, serverCores: 1, loadgenCores: 0.5,
});

const report = (phases: PhaseResult[]): Report => ({
  date: '2026-01-01T00:00:00Z', commit: 'abc', nice: 0, command: 'npm run bench', load1Start: 0.1, load1End: 0.2,
  machine: { cpuModel: 'cpu', cores: 2, ramGb: 4, node: 'v20', disk: 'disk', kernel: 'linux' },
  shape: { connections: 64, durationS: 10, warmupS: 3, valueBytes: 256 }, phases, notes: [],
});

t.test('ratios compare zkgate with the best reference figure and say whether each target is met', async (t) => {
  const md = render(report([
    phase('zkgate', 'get', 9000), phase('bare-fastify', 'get', 10000),
    phase('zkgate', 'set', 14000), phase('zookeeper', 'set', 10000, 'node-zookeeper-client'), phase('zookeeper', 'set', 9000, 'java-zookeeper-client'),
    phase('zkgate', 'create', 12000), phase('zookeeper', 'create', 9000, 'java-zookeeper-client'),
  ]));
  t.match(md, /get vs bare fastify get \| 9,000 \| 10,000 .* \*\*0\.90\*\* met/);
  t.match(md, /durable set vs ZooKeeper set \| 14,000 \| 10,000 \(zookeeper, node-zookeeper-client\) .* \*\*1\.40\*\* MISSED/);
  t.match(md, /durable create vs ZooKeeper create \| 12,000 \| 9,000 .* \*\*1\.33\*\* MISSED/);
});

t.test('a reference that was not measured is reported as such, not as a ratio', async (t) => {
  const md = render(report([phase('zkgate', 'set', 1000)]));
  t.match(md, /durable set vs ZooKeeper set \| — \| — \| ≥ 1\.5 \| not measured \|/);
});

t.test('the order line is printed only for a run that took the phases system by system in turn', async (t) => {
  const phases = [phase('zkgate', 'set', 1000)];
  t.match(render({ ...report(phases), interleaved: true }), /^- order: phase by phase, each system in turn/m);
  t.notMatch(render(report(phases)), /^- order:/m, 'an older run (re-rendered from its JSON) does not claim it');
});

t.test('the large tree says whether a restart after a crash met the start-up and memory standards', async (t) => {
  const znodes = {
    znodes: 1000, valueBytes: 256, fillS: 1, fillPerS: 1000, dataDirMb: 1, rssAfterFillMb: 50, emptyStartToFirstReadMs: 100,
    restartToFirstReadMs: 300, rssAfterStartMb: 80, readOps: 10, readOpsPerS: 10, readErrors: 0, readP50Ms: 1, readP99Ms: 2,
    rssAfterReadsMb: 90, serverZnodeCount: 1000,
  };
  const crash = { setsAcked: 5000, walMb: 40, restartToFirstReadMs: 2500, peakRssMb: 150, rssAfterStartMb: 120, serverZnodeCount: 1000 };
  const md = render({ ...report([]), znodes: { ...znodes, crash } });
  t.match(md, /crash: SIGKILL after 5,000 sets acknowledged \(write-ahead log 40 MB\)/);
  t.match(md, /crash restart: spawn → first successful getData .* \| 2,500 ms \| < 2000 ms MISSED \|/);
  t.match(md, /crash restart: peak RSS until then \/ RSS after start \| 150 MB \/ 120 MB \| < 200 MB met \|/);
  t.notMatch(render({ ...report([]), znodes }), /crash/, 'a run from before the crash measurement has no such rows');
});
