// `npm run jepsen -- --time 600 --nemesis all [--seed N] [--nodes 3|5]`: the long fault-injection run.
// Starts a proxied ensemble, runs the workloads under the nemesis, checks the history and writes a report
// under jepsen-results/; a failing run prints its seed and the command that replays it.
import { Command } from 'commander';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultRunOptions, runJepsen } from '../test/jepsen/run.js';
import { parseNemesis } from '../test/jepsen/nemesis.js';
import { writeReport } from '../test/jepsen/report.js';
import { copyBuild } from '../test/jepsen/build-copy.js';
import { wholeNumber } from './options.js';
import { sharedPeerTlsLines } from '../test/helpers/certs.js';

const repo = join(fileURLToPath(import.meta.url), '..', '..', '..');

const program = new Command()
  .name('jepsen')
  .option('--time <s>', 'seconds of faults per run', '60')
  .option('--nemesis <spec>', 'all | partition | link | kill | pause | none | fault names, comma-separated', 'all')
  .option('--seed <n>', 'seed of the first run (default: random)')
  .option('--runs <n>', 'runs, with consecutive seeds', '1')
  .option('--nodes <n>', 'ensemble size', '3')
  .option('--out <dir>', 'results folder', join(repo, 'jepsen-results'))
  .option('--keep', 'keep data dirs and node logs of passing runs too')
  .option('--peer-tls', 'run the peer channel over mutual TLS (a test CA and certificate made for the run)');

async function main(): Promise<number> {
  program.parse();
  const o = program.opts<{ time: string; nemesis: string; seed?: string; runs: string; nodes: string; out: string; keep?: boolean; peerTls?: boolean }>();
  let faults: ReturnType<typeof parseNemesis>;
  try {
    faults = parseNemesis(o.nemesis);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
  const time = wholeNumber('time', o.time, 1);
  const runs = wholeNumber('runs', o.runs, 1);
  const nodes = wholeNumber('nodes', o.nodes, 3);
  const first = o.seed !== undefined ? wholeNumber('seed', o.seed, 0) : Math.floor(Math.random() * 2 ** 31);
  let failed = 0;
  const build = copyBuild(o.out);
  // One certificate for every member is enough here: the CA decides, and host names are not checked.
  const peerTls = o.peerTls ? sharedPeerTlsLines(build.dir, 'zkgate jepsen peer') : [];
  try {
  for (let i = 0; i < runs; i++) {
    const seed = first + i;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const dir = join(o.out, `${stamp}-seed${seed}`);
    const base = defaultRunOptions(seed, time * 1000, faults);
    const opts = { ...base, zooCfg: [...base.zooCfg, ...peerTls], nodes, logDir: join(dir, 'logs'), bin: build.bin, log: (l: string) => console.log(`[seed ${seed}] ${l}`) };
    const r = await runJepsen(opts);
    writeReport(r, dir);
    for (const c of r.checks) {
      console.log(`  ${c.verdict.padEnd(7)} ${c.name} ${JSON.stringify(c.stats ?? {})}`);
      for (const a of c.anomalies.slice(0, 10)) console.log(`          ${a.kind}: ${a.detail}`);
    }
    console.log(`seed ${seed}: ${r.verdict.toUpperCase()} — ${r.ops.length} ops, ${r.timeline.length} faults, ${(r.durationMs / 1000).toFixed(0)} s; report ${join(dir, 'report.html')}`);
    if (r.verdict !== 'ok') {
      failed++;
      console.log(`replay: npm run jepsen -- --seed ${seed} --time ${o.time} --nemesis ${o.nemesis} --nodes ${o.nodes}${o.peerTls ? ' --peer-tls' : ''}`);
    }
  }
  } finally {
    build.remove();
  }
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
