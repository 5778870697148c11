// The ensemble bench's graceful-stop figures: the longest pause in successful writes after the signal, and how the
// report shows it beside ZooKeeper's.
import t from 'tap';
import { renderEnsemble, type EnsembleBenchResult } from '../../bench/ensemble-report.js';
import { longestGap, type FailoverRound } from '../../bench/failover.js';

t.test('the longest gap runs from the signal through each successful write in time order', async (t) => {
  t.equal(longestGap(1000, [1900, 1100, 1150]), 750, 'from 1150 to 1900');
  t.equal(longestGap(1000, [1600, 1700]), 600, 'from the signal to the first success');
  t.ok(Number.isNaN(longestGap(0, [])), 'no success at all: no figure');
});

t.test('graceful stops are reported by their longest pause, the median of the rounds, beside ZooKeeper', async (t) => {
  const round = (gapMs: number, killedId = 1): FailoverRound => ({ killedId, firstWriteMs: 5, newLeaderId: 2, failedWrites: 3, steadyOpsPerS: 1000, longestGapMs: gapMs });
  const r: EnsembleBenchResult = {
    date: '2026-11-28T00:00:00Z',
    commit: 'abc',
    command: 'node dist/bench/ensemble.js',
    machine: { cpuModel: 'cpu', cores: 2, ramGb: 24, node: 'v20', disk: 'disk', kernel: 'linux' },
    size: 3,
    load1Start: 1,
    load1End: 1,
    load1Samples: [],
    shape: { connections: 64, durationS: 10, warmupS: 3, valueBytes: 256 },
    phases: [],
    failover: { zkgate: [round(9)], zkgateGraceful: [round(30), round(40, 3), round(35)], zookeeperGraceful: [round(900), round(700), round(800)] },
    skipped: [],
    notes: [],
    nice: 0,
  };
  const md = renderEnsemble(r);
  t.match(md, '| graceful leader stop (SIGTERM): longest time without a successful write, median of 3 | 35 ms | 800 ms (ZooKeeper) | (no target) | — |');
  t.match(md, '### zkgate ×3, graceful leader stop (SIGTERM)');
  t.match(md, '| 2 | 3 | 2 | 40 | 1,000 |', 'a row per round');
  t.match(md, '### ZooKeeper 3.8 ×3, graceful leader stop (SIGTERM)');
  const without = renderEnsemble({ ...r, failover: { zkgate: [round(9)] } });
  t.notMatch(without, 'graceful', 'a run without graceful rounds shows none');
});
