// The in-suite Jepsen run: a 3-node ensemble behind link proxies, every nemesis on a fixed seed for a
// bounded time, all workloads, and every checker must pass. A failure prints the seed and how to replay it.
import t from 'tap';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRunOptions, runJepsen } from './run.js';
import { FAULTS } from './nemesis.js';
import { writeReport } from './report.js';
import { copyBuild } from './build-copy.js';

// Starting and restarting real processes on a shared, loaded 2-core machine is slow: allow it, bounded.
t.setTimeout(240000);

const repo = join(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const SEEDS = [20261126];
const FAULT_TIME_MS = 25000;

for (const seed of SEEDS) {
  t.test(`seed ${seed}: under partitions, link faults, kills and pauses every check passes`, { timeout: 230000 }, async (t) => {
    const results = join(repo, 'jepsen-results');
    const build = copyBuild(results);
    const logDir = join(build.bin, '..', '..', 'logs');
    t.teardown(() => build.remove());
    const o = {
      ...defaultRunOptions(seed, FAULT_TIME_MS, [...FAULTS]),
      registerClients: 4,
      checkBudgetMs: 15000,
      bin: build.bin,
      logDir,
      nemesis: { quietMs: [300, 1200] as [number, number], holdMs: [1000, 2500] as [number, number], pauseMs: [1500, 2500] as [number, number], maxFaults: 20 },
    };
    const r = await runJepsen(o);
    if (r.verdict !== 'ok') {
      const dir = writeReport(r, join(results, `test-seed${seed}-${Date.now()}`));
      cpSync(logDir, join(dir, 'logs'), { recursive: true });
      t.comment(r.log.join('\n'));
      t.comment(`FAILED: seed ${seed}; report ${dir}; replay: npm run jepsen -- --seed ${seed} --time ${FAULT_TIME_MS / 1000} --nemesis all`);
    }
    t.equal(r.error, undefined, 'the harness completed');
    t.ok(r.timeline.length >= 3, `${r.timeline.length} faults injected: ${r.timeline.map((e) => e.fault).join(', ')}`);
    const ok = (type: string) => r.ops.filter((x) => x.type === type && x.outcome === 'ok').length;
    t.ok(ok('register') >= 20 && ok('queue') >= 5 && ok('session') >= 5, `operations acknowledged: ${ok('register')} register, ${ok('queue')} queue, ${ok('session')} session`);
    for (const c of r.checks) t.equal(c.verdict, 'ok', `${c.name} ${JSON.stringify(c.stats ?? {})}${c.anomalies.length ? `: ${c.anomalies.slice(0, 5).map((a) => a.detail).join('; ')}` : ''}`);
  });
}
