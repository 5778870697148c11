// The large-tree check for an ensemble: the standards' "1M znodes: restart to first read < 2 s, RSS < 200 MB" asked
// of a member rather than of a standalone node. Fills a 3-member ensemble through its leader, then:
//   1. SIGKILLs a follower and restarts it: spawn → first read of a deep node on it, its RSS then;
//   2. reads across the whole tree on that follower: RSS after (anonymous vs LMDB's file-backed map);
//   3. SIGKILLs every member at once under sets, so that each restart replays its consensus log's tail
//      (dataDir/raft-wal/): spawn → first read and → first acknowledged write, each member's peak RSS until its
//      first read, and the tree's size after.
// `node dist/bench/ensemble-tree.js [--znodes 1000000] [--out FILE]`: prints a markdown report, writes the figures
// to bench/results/ensemble-tree-<date>.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { httpOk, rssSplitMb, sleep, waitUntil, type Child } from './procs.js';
import { BENCH_DIR, commitOf, machine, type Machine } from './report.js';
import { duMb, fill, nodePath, randomReads, randomSets, znodeCount } from './znodes.js';
import { srvrMode, startZkgateEnsemble, type ZkgateEnsemble, type ZkgateMember } from './zkgate-ensemble.js';

/** How long a restarted member may take to answer (a generous bound: the standard is 2 s). */
const READY_TIMEOUT_MS = 120_000;

interface Restart {
  id: number;
  role: string;
  /** Spawn → its admin API answers (process up, data opened, consensus log replayed). */
  startToUpMs: number;
  /** Spawn → it knows a leader (srvr's mode is no longer `looking`). */
  startToLeaderMs: number;
  startToFirstReadMs: number;
  peakRssMb: number;
  rssAfterStartMb: number;
}

export interface EnsembleTreeResult {
  date: string;
  code: string;
  machine: Machine;
  command: string;
  znodes: number;
  valueBytes: number;
  fillS: number;
  dataDirMb: number[];
  /** Per member after the fill: all, anonymous (heap, buffers), file-backed (LMDB's map). */
  rssAfterFill: { rssMb: number; anonMb: number; fileMb: number }[];
  follower: Restart & { readsPerS: number; readP99Ms: number; readErrors: number; rssAfterReadsMb: number; anonMb: number; fileMb: number };
  crash: { setsAcked: number; raftWalMb: number[]; restarts: Restart[]; toFirstWriteMs: number; znodesAfter: number[] };
}

/** Starts member `id` (without waiting for it) and times spawn → first 200 on a getData of a deep node. */
async function restartTimed(ens: ZkgateEnsemble, id: number, probePath: string): Promise<Restart> {
  const m = ens.members.find((x) => x.id === id) as ZkgateMember;
  const started = ens.start(id);
  const child = m.child as Child;
  await waitUntil(child, () => httpOk(`${m.url}/v1/admin/ruok`), READY_TIMEOUT_MS, 2);
  const startToUpMs = performance.now() - child.spawnedAtMs;
  await waitUntil(child, async () => ![undefined, 'looking'].includes(await srvrMode(m.url)), READY_TIMEOUT_MS, 2);
  const startToLeaderMs = performance.now() - child.spawnedAtMs;
  await waitUntil(child, () => httpOk(`${m.url}/v1/znodes${probePath}`), READY_TIMEOUT_MS, 2);
  const startToFirstReadMs = performance.now() - child.spawnedAtMs;
  const peakRssMb = rssSplitMb(child.pid).peakMb;
  await started;
  await sleep(200);
  return { id, role: (await srvrMode(m.url)) ?? 'unknown', startToUpMs, startToLeaderMs, startToFirstReadMs, peakRssMb, rssAfterStartMb: rssSplitMb(child.pid).rssMb };
}

export async function runEnsembleTree(n: number, valueBytes: number, connections: number, command: string): Promise<EnsembleTreeResult> {
  const root = mkdtempSync(join(tmpdir(), 'zkgate-ens-tree-'));
  const ens = await startZkgateEnsemble({ size: 3, root });
  try {
    const leaderId = await ens.leader();
    const url = (id: number) => (ens.members.find((m) => m.id === id) as ZkgateMember).url;
    const t0 = performance.now();
    await fill(url(leaderId), n, valueBytes);
    const expected = await znodeCount(url(leaderId));
    for (const m of ens.members) await waitUntil(m.child as Child, async () => (await znodeCount(m.url)) === expected, READY_TIMEOUT_MS, 50);
    const fillS = (performance.now() - t0) / 1000;
    const rssAfterFill = ens.members.map((m) => rssSplitMb((m.child as Child).pid));
    const probe = nodePath(Math.floor(n / 2));

    const followerId = (ens.members.find((m) => m.id !== leaderId) as ZkgateMember).id;
    await ens.kill(followerId, 'SIGKILL');
    const restarted = await restartTimed(ens, followerId, probe);
    const reads = await randomReads(url(followerId), n, 10, connections);
    const mem = rssSplitMb((ens.members.find((m) => m.id === followerId)?.child as Child).pid);
    const follower = { ...restarted, readsPerS: reads.perS, readP99Ms: reads.p99Ms, readErrors: reads.errors, rssAfterReadsMb: mem.rssMb, anonMb: mem.anonMb, fileMb: mem.fileMb };

    // Sets spread over every member for 10 s, then all three SIGKILLed at once.
    let setsAcked = 0;
    const perMember = Math.max(1, Math.floor(connections / ens.members.length));
    const loads = ens.members.map((m) => randomSets(m.url, n, valueBytes, perMember, 14, () => setsAcked++));
    await sleep(10_000);
    for (const m of ens.members) (m.child as Child).proc.kill('SIGKILL');
    await Promise.all(ens.members.map((m) => (m.child as Child).exited));
    const acked = setsAcked;
    for (const l of loads) l.stop();
    await Promise.all(loads);
    const raftWalMb = ens.members.map((m) => duMb(join(m.dataDir, 'raft-wal')));
    const dataDirMb = ens.members.map((m) => duMb(m.dataDir));
    const tStart = performance.now();
    const restarts = await Promise.all(ens.members.map((m) => restartTimed(ens, m.id, probe)));
    const newLeader = await ens.leader();
    let toFirstWriteMs = 0;
    await waitUntil(ens.members.find((m) => m.id === newLeader)?.child as Child, async () => {
      const r = await fetch(`${url(newLeader)}/v1/znodes${probe}`, { method: 'PUT', body: 'after' });
      await r.arrayBuffer();
      return r.ok;
    }, READY_TIMEOUT_MS, 5);
    toFirstWriteMs = performance.now() - tStart;
    const znodesAfter = await Promise.all(ens.members.map((m) => znodeCount(m.url)));
    return {
      date: new Date().toISOString(),
      code: commitOf(BENCH_DIR),
      machine: machine(root),
      command,
      znodes: n,
      valueBytes,
      fillS,
      dataDirMb,
      rssAfterFill: rssAfterFill.map(({ rssMb, anonMb, fileMb }) => ({ rssMb, anonMb, fileMb })),
      follower,
      crash: { setsAcked: acked, raftWalMb, restarts, toFirstWriteMs, znodesAfter },
    };
  } finally {
    await ens.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const f1 = (x: number) => x.toFixed(1);
const f0 = (x: number) => Math.round(x).toLocaleString('en-US');

export function renderEnsembleTree(r: EnsembleTreeResult): string {
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const fl = r.follower;
  const lines = [
    `- date: ${r.date}; code: ${r.code}; command: \`${r.command}\``,
    `- machine: ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.machine.ramGb} GB RAM, ${r.machine.kernel}, node ${r.machine.node}; disk ${r.machine.disk}`,
    '',
    '| figure | value | standard |',
    '|---|--:|--:|',
    `| znodes written through the leader (${r.valueBytes}-byte values, REST multi batches) | ${f0(r.znodes)} in ${f1(r.fillS)} s, every member caught up | |`,
    `| data dir per member after the crash (MB) | ${r.dataDirMb.join(' · ')} | |`,
    `| RSS per member after the fill: all / anonymous / file-backed (LMDB map), MB | ${r.rssAfterFill.map((x) => `${f0(x.rssMb)} / ${f0(x.anonMb)} / ${f0(x.fileMb)}`).join(' · ')} | |`,
    `| follower SIGKILLed and restarted: spawn → up · → leader known · → first read of a deep node | ${f0(fl.startToUpMs)} · ${f0(fl.startToLeaderMs)} · ${f0(fl.startToFirstReadMs)} ms | < 2000 ms ${verdict(fl.startToFirstReadMs < 2000)} |`,
    `| its peak RSS until then / RSS after start | ${f0(fl.peakRssMb)} / ${f0(fl.rssAfterStartMb)} MB | < 200 MB ${verdict(fl.peakRssMb < 200)} |`,
    `| random reads across the tree on it, 10 s | ${f0(fl.readsPerS)}/s, p99 ${fl.readP99Ms.toFixed(2)} ms, ${fl.readErrors} errors | |`,
    `| its RSS after those reads: anonymous / file-backed (LMDB map) | ${f0(fl.anonMb)} / ${f0(fl.fileMb)} MB | |`,
    `| every member SIGKILLed at once after 10 s of sets spread over them | ${f0(r.crash.setsAcked)} sets acknowledged; consensus logs (raft-wal) ${r.crash.raftWalMb.join(' · ')} MB | |`,
  ];
  for (const x of r.crash.restarts) {
    lines.push(`| member ${x.id} (${x.role} after): spawn → up · → leader known · → first read; peak RSS until then · RSS after start | ${f0(x.startToUpMs)} · ${f0(x.startToLeaderMs)} · ${f0(x.startToFirstReadMs)} ms; ${f0(x.peakRssMb)} · ${f0(x.rssAfterStartMb)} MB | < 2000 ms ${verdict(x.startToFirstReadMs < 2000)}, < 200 MB ${verdict(x.peakRssMb < 200)} |`);
  }
  lines.push(`| all three spawned → first acknowledged write | ${f0(r.crash.toFirstWriteMs)} ms | |`);
  lines.push(`| znodes counted by each member after | ${r.crash.znodesAfter.map(f0).join(' · ')} | |`);
  return lines.join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = new Command()
    .option('--znodes <n>', 'znodes to write', '1000000')
    .option('--value-bytes <n>', 'value size', '256')
    .option('--connections <n>', 'concurrent clients for the reads and sets', '64')
    .option('--out <file>', 'also write the markdown here')
    .parse()
    .opts<{ znodes: string; valueBytes: string; connections: string; out?: string }>();
  const command = `node dist/bench/ensemble-tree.js ${process.argv.slice(2).join(' ')}`.trim();
  const r = await runEnsembleTree(Number(o.znodes), Number(o.valueBytes), Number(o.connections), command);
  const dir = join(BENCH_DIR, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `ensemble-tree-${r.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(r, null, 2));
  const md = renderEnsembleTree(r);
  if (o.out) writeFileSync(o.out, md);
  process.stdout.write(md);
}
