// Renders bench/ENSEMBLE-RESULTS.md: run facts, one table per system, the issue #5 targets as ratios within the
// run, and the failover rounds; a hand-written analysis section already in the file is kept across runs.
import { existsSync, readFileSync } from 'node:fs';
import type { Machine } from './report.js';
import type { PhaseResult } from './stats.js';
import { median, type FailoverRound } from './failover.js';

export const ENSEMBLE_ANALYSIS_HEADING = '## Analysis (hand-written; kept when the bench rewrites this file)';

export interface EnsembleBenchResult {
  date: string;
  commit: string;
  command: string;
  machine: Machine;
  size: number;
  load1Start: number;
  load1End: number;
  /** 1-minute load average sampled before each measured phase. */
  load1Samples: number[];
  shape: { connections: number; durationS: number; warmupS: number; valueBytes: number };
  phases: PhaseResult[];
  /** Leader SIGKILL rounds, and graceful stops (SIGTERM). */
  failover: { zkgate?: FailoverRound[]; zookeeper?: FailoverRound[]; zkgateGraceful?: FailoverRound[]; zookeeperGraceful?: FailoverRound[] };
  /** Systems that were not measured, and why (with the install instructions). */
  skipped: string[];
  notes: string[];
  /** The nice level the bench and all its children ran at (0 = normal). */
  nice: number;
}

/** The zkgate rows the targets use: load spread over every member (the product's normal mode). */
export const SPREAD = 'autocannon, all members';
export const LEADER_ONLY = 'autocannon, leader only';

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '—');

function table(rows: PhaseResult[]): string {
  const head =
    '| phase | client | ops/s | p50 ms | p99 ms | ok | errors | server CPU (cores, all members) | server CPU µs/op | load-gen CPU (cores) | durable commits (leader) | writes per commit |\n' +
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|';
  const writes = (r: PhaseResult) => (r.phase === 'mix' ? r.ok / 10 : r.ok);
  const body = rows.map(
    (r) =>
      `| ${r.phase} | ${r.client} | ${f0(r.opsPerS)} | ${f2(r.p50Ms)} | ${f2(r.p99Ms)} | ${r.ok} | ${r.errors} | ${f2(r.serverCores)} | ${f0((r.serverCores * 1e6) / r.opsPerS)} | ${f2(r.loadgenCores)} | ` +
      (r.commits ? `${r.commits} | ${r.phase === 'get' ? '—' : (writes(r) / r.commits).toFixed(1)} |` : '— | — |'),
  );
  return [head, ...body].join('\n');
}

const rowsOf = (r: EnsembleBenchResult, system: string, phase: string) => r.phases.filter((p) => p.system === system && p.phase === phase);
const best = (rs: PhaseResult[]) => (rs.length === 0 ? undefined : rs.reduce((a, b) => (b.opsPerS > a.opsPerS ? b : a)));

function ratioRow(r: EnsembleBenchResult, label: string, phase: string, ref: string, target: number): string {
  const zg = rowsOf(r, 'zkgate', phase).find((p) => p.client === SPREAD);
  const den = best(rowsOf(r, ref, phase));
  if (!zg || !den) return `| ${label} | ${f0(zg?.opsPerS ?? NaN)} | — | ≥ ${target} | not measured |`;
  const ratio = zg.opsPerS / den.opsPerS;
  return `| ${label} | ${f0(zg.opsPerS)} | ${f0(den.opsPerS)} (${den.client}) | ≥ ${target} | **${ratio.toFixed(2)}** ${ratio >= target ? 'met' : 'MISSED'} |`;
}

function p99Row(r: EnsembleBenchResult, phase: string): string {
  const zg = rowsOf(r, 'zkgate', phase).find((p) => p.client === SPREAD);
  const zk = rowsOf(r, 'zookeeper', phase);
  if (!zg || zk.length === 0) return `| p99 ${phase} vs ZooKeeper ×${r.size} | ${f2(zg?.p99Ms ?? NaN)} | — | ≤ | not measured |`;
  // The lowest p99 any ZooKeeper client saw: the stricter comparison.
  const den = zk.reduce((a, b) => (b.p99Ms < a.p99Ms ? b : a));
  const ok = zg.p99Ms <= den.p99Ms;
  return `| p99 ${phase} vs ZooKeeper ×${r.size} (ms) | ${f2(zg.p99Ms)} | ${f2(den.p99Ms)} (${den.client}) | ≤ | ${ok ? 'met' : 'MISSED'} |`;
}

function failoverTable(name: string, rounds: FailoverRound[] | undefined, limitNote: string): string[] {
  if (!rounds || rounds.length === 0) return [];
  const out = [`### ${name}`, '', '| round | killed leader | new leader | SIGKILL → first successful write (ms) | writes failed meanwhile | write load before the kill (ops/s) |', '|--:|--:|--:|--:|--:|--:|'];
  rounds.forEach((x, i) => out.push(`| ${i + 1} | ${x.killedId} | ${x.newLeaderId || '—'} | ${f0(x.firstWriteMs)} | ${x.failedWrites} | ${f0(x.steadyOpsPerS)} |`));
  out.push('', `Median: **${f0(median(rounds.map((x) => x.firstWriteMs)))} ms**${limitNote}`, '');
  return out;
}

function gracefulTable(name: string, rounds: FailoverRound[] | undefined): string[] {
  if (!rounds || rounds.length === 0) return [];
  const out = [`### ${name}, graceful leader stop (SIGTERM)`, '', '| round | stopped leader | new leader | longest time without a successful write (ms) | write load before the stop (ops/s) |', '|--:|--:|--:|--:|--:|'];
  rounds.forEach((x, i) => out.push(`| ${i + 1} | ${x.killedId} | ${x.newLeaderId || '—'} | ${f0(x.longestGapMs ?? NaN)} | ${f0(x.steadyOpsPerS)} |`));
  out.push('', `Median: **${f0(median(rounds.map((x) => x.longestGapMs ?? NaN)))} ms**`, '');
  return out;
}

export function renderEnsemble(r: EnsembleBenchResult, keepAnalysisFrom?: string): string {
  const n = r.size;
  const out: string[] = [];
  out.push(`# zkgate ×${n} vs ZooKeeper 3.8 ×${n} vs etcd ×${n} (issue #5 point 7)`, '');
  out.push('Generated by `node dist/bench/ensemble.js` (bench/ensemble.ts). Every cluster runs on this one machine, on loopback.', '');
  out.push('## Run', '');
  out.push(`- date: ${r.date}`);
  out.push(`- command: \`${r.command}\``);
  out.push(`- code: ${r.commit}`);
  out.push(`- machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.ramGb} GB RAM, ${r.machine.kernel}; node ${r.machine.node}`);
  out.push(`- disk: ${r.machine.disk}`);
  out.push(
    `- 1-minute load average: ${r.load1Start.toFixed(2)} at start, ${r.load1End.toFixed(2)} at end; before each phase: ${r.load1Samples.map((x) => x.toFixed(1)).join(', ')} ` +
      '(other engineers run tests on this machine at the same time)',
  );
  if (r.nice !== 0) out.push(`- priority: the bench, every server and the load generators ran at nice ${r.nice}, in their own scheduling autogroup also at nice ${r.nice} (with autogroup scheduling a process's nice alone only ranks it within its session), to shield the measurement from the other engineers' concurrent work (CPU only: disk flushes still compete)`);
  out.push(
    `- load: ${r.shape.connections} concurrent clients, one request outstanding each, ${r.shape.valueBytes}-byte values, ${r.shape.warmupS} s warm-up then ` +
      `${r.shape.durationS} s measured per phase; the systems take turns phase by phase (create on each, then set on each, …) so drifts in machine load hit all alike`,
  );
  out.push('');
  out.push(`## Targets (ratios within this run; zkgate figures are the load spread over all ${n} members)`, '');
  out.push('| target | zkgate | reference | required | result |\n|---|--:|--:|--:|--:|');
  out.push(ratioRow(r, `durable set vs ZooKeeper ×${n} set`, 'set', 'zookeeper', 2));
  out.push(ratioRow(r, `durable create vs ZooKeeper ×${n} create`, 'create', 'zookeeper', 2));
  out.push(ratioRow(r, `durable set vs etcd ×${n} put`, 'set', 'etcd', 4));
  out.push(ratioRow(r, `durable create vs etcd ×${n} put of a new key`, 'create', 'etcd', 4));
  out.push(ratioRow(r, `90/10 mix vs ZooKeeper ×${n} mix`, 'mix', 'zookeeper', 1.5));
  for (const phase of ['create', 'set', 'get', 'mix']) out.push(p99Row(r, phase));
  const fz = r.failover.zkgate;
  const m = fz ? median(fz.map((x) => x.firstWriteMs)) : NaN;
  out.push(`| failover: leader SIGKILL → first successful write, median of ${fz?.length ?? 0} | ${f0(m)} ms | ${f0(median((r.failover.zookeeper ?? []).map((x) => x.firstWriteMs)))} ms (ZooKeeper) | < 1500 ms | ${fz ? (m < 1500 ? 'met' : 'MISSED') : 'not measured'} |`);
  const gz = r.failover.zkgateGraceful;
  if (gz) {
    const gap = (rounds: FailoverRound[] | undefined) => f0(median((rounds ?? []).map((x) => x.longestGapMs ?? NaN)));
    out.push(`| graceful leader stop (SIGTERM): longest time without a successful write, median of ${gz.length} | ${gap(gz)} ms | ${gap(r.failover.zookeeperGraceful)} ms (ZooKeeper) | (no target) | — |`);
  }
  out.push('');
  for (const s of r.skipped) out.push(`> ${s.replace(/\n/g, '\n> ')}`, '');
  for (const [system, title] of [
    ['zkgate', `zkgate ×${n} (child processes, REST over HTTP/1.1 keep-alive; a write is answered once a quorum has it fsync'd; followers forward writes to the leader)`],
    ['zookeeper', `ZooKeeper 3.8 ×${n} (QuorumPeerMain JVMs, -Xmx256m each, forceSync=yes default; clients spread over the members by the client library)`],
    ['etcd', `etcd ×${n} (HTTP/JSON gateway; puts are linearizable writes, gets are serializable ranges answered by the member; load spread over all members)`],
  ] as const) {
    const rows = r.phases.filter((p) => p.system === system);
    if (rows.length > 0) out.push(`## ${title}`, '', table(rows), '');
  }
  if (fz || r.failover.zookeeper) {
    out.push('## Failover', '');
    out.push(...failoverTable(`zkgate ×${n}`, fz, ' (target < 1500 ms)'));
    out.push(...failoverTable(`ZooKeeper 3.8 ×${n}`, r.failover.zookeeper, ''));
    out.push(...gracefulTable(`zkgate ×${n}`, r.failover.zkgateGraceful));
    out.push(...gracefulTable(`ZooKeeper 3.8 ×${n}`, r.failover.zookeeperGraceful));
  }
  out.push('## Notes', '');
  for (const note of r.notes) out.push(`- ${note}`);
  out.push('');
  if (keepAnalysisFrom && existsSync(keepAnalysisFrom)) {
    const old = readFileSync(keepAnalysisFrom, 'utf8');
    const i = old.indexOf(ENSEMBLE_ANALYSIS_HEADING);
    if (i >= 0) out.push(old.slice(i).trimEnd(), '');
  }
  return out.join('\n');
}
