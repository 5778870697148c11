// Deterministic simulation, CI slice: a fixed range of seeds, each a 3- or 5-voter cluster (some
// with a learner) under drops, duplicates, reordering, delays, symmetric and one-way partitions,
// crashes that lose unsynced writes, and restarts, with every Raft safety property checked after
// every step. The liveness slice then heals each world and requires a fresh commit everywhere.
// A failure names its seed and the command that replays it; `npm run sim -- --seeds N` sweeps more.

import t from 'tap';
import { replayCommand, runSeed } from './sim/simulation.js';
import type { SimOptions } from './sim/simulation.js';

const SAFETY_SEEDS = Number(process.env.SIM_SAFETY_SEEDS ?? 500);
const LIVENESS_SEEDS = Number(process.env.SIM_LIVENESS_SEEDS ?? 100);
const LIVENESS_START = 1_000_001;
/** 2000 units = 200 ticks = 10-20 election timeouts per seed: keeps the CI slice under a minute. */
const SAFETY_STEPS = 2000;

function sweep(label: string, first: number, count: number, liveness: boolean, steps?: number): void {
  t.test(`${label}: seeds ${first}..${first + count - 1}`, async (tt) => {
    let committed = 0;
    let crashes = 0;
    let partitions = 0;
    let reads = 0;
    for (let seed = first; seed < first + count; seed++) {
      const options: SimOptions = { seed, liveness, steps };
      const result = runSeed(options);
      if (!result.ok) {
        tt.fail(`seed ${seed} failed: ${result.error}\nreplay: ${replayCommand(options)}`);
        return;
      }
      committed += result.stats.committed;
      crashes += result.stats.crashes;
      partitions += result.stats.partitions;
      reads += result.stats.readsServed;
    }
    tt.pass(`${count} seeds passed`);
    // The sweep must actually exercise the system, or passing it would mean nothing.
    tt.ok(committed > count * 20, `entries were committed (${committed})`);
    tt.ok(crashes > count / 4, `nodes crashed and restarted (${crashes})`);
    tt.ok(partitions > count / 4, `partitions happened (${partitions})`);
    tt.ok(reads > count, `linearizable reads were served and checked (${reads})`);
  });
}

sweep('safety', 1, SAFETY_SEEDS, false, SAFETY_STEPS);
sweep('safety and liveness', LIVENESS_START, LIVENESS_SEEDS, true);

t.test('a seed replays identically', async (tt) => {
  const first = runSeed({ seed: 4242, liveness: true });
  const second = runSeed({ seed: 4242, liveness: true });
  tt.ok(first.ok, 'the seed passes');
  tt.same(second.stats, first.stats, 'same seed, same run');
  const other = runSeed({ seed: 4243, liveness: true });
  tt.not(JSON.stringify(other.stats), JSON.stringify(first.stats), 'another seed, another run');
});
