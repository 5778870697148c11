// CLI for the consensus simulation: runs a range of seeds, prints progress, and on failure the
// seed and the exact command that replays it. Usage:
//   node dist/bin/sim.js --seeds N [--start S] [--nodes 3|5] [--steps K] [--liveness]   (--help for more)

import { Command } from 'commander';
import { performance } from 'node:perf_hooks';
import { replayCommand, runSeed } from '../test/quorum/sim/simulation.js';
import type { SimOptions } from '../test/quorum/sim/simulation.js';
import { wholeNumber } from './options.js';

// commander, as the other CLIs: --help prints the usage, and an unknown option is a one-line error, not a stack.
const program = new Command()
  .name('sim')
  .description('deterministic simulation of the consensus core over a range of seeds')
  .option('--seeds <n>', 'how many seeds', '100')
  .option('--start <s>', 'first seed', '1')
  .option('--nodes <n>', '3 or 5 voters (default: chosen by each seed)')
  .option('--steps <k>', 'simulation steps per seed (default: the simulation\'s own)')
  .option('--liveness', 'also require progress once faults stop', false);

function main(): void {
  program.parse();
  const values = program.opts<{ seeds: string; start: string; nodes?: string; steps?: string; liveness: boolean }>();
  const seeds = wholeNumber('seeds', values.seeds, 0);
  const start = wholeNumber('start', values.start, 0);
  const nodes = values.nodes === undefined ? undefined : wholeNumber('nodes', values.nodes, 0);
  if (nodes !== undefined && nodes !== 3 && nodes !== 5) {
    console.error('--nodes must be 3 or 5');
    process.exit(2);
  }
  const steps = values.steps === undefined ? undefined : wholeNumber('steps', values.steps, 0);
  const liveness = values.liveness;
  const began = performance.now();
  const progressEvery = Math.max(1, Math.floor(seeds / 20));
  let commits = 0;
  let crashes = 0;
  let diskLosses = 0;
  for (let i = 0; i < seeds; i++) {
    const options: SimOptions = { seed: start + i, nodes, steps, liveness };
    const result = runSeed(options);
    if (!result.ok) {
      console.error(`FAIL seed ${result.seed}: ${result.error}`);
      console.error(`replay: ${replayCommand(options)}`);
      process.exit(1);
    }
    commits += result.stats.committed;
    crashes += result.stats.crashes;
    diskLosses += result.stats.diskLosses;
    if ((i + 1) % progressEvery === 0 || i + 1 === seeds) {
      const seconds = ((performance.now() - began) / 1000).toFixed(1);
      console.log(`${i + 1}/${seeds} seeds ok (through seed ${start + i}) in ${seconds}s; ${commits} entries committed, ${crashes} crashes (${diskLosses} with the disk lost)`);
    }
  }
  const seconds = ((performance.now() - began) / 1000).toFixed(1);
  const mode = liveness ? 'safety+liveness' : 'safety';
  console.log(`PASS ${seeds} seeds [${start}..${start + seeds - 1}] ${mode} in ${seconds}s`);
}

main();
