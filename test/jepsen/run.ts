// One Jepsen-style run: start the proxied cluster, run the workloads while the nemesis injects faults,
// heal, read the final state and check everything. Returns the verdicts with the history and timeline.
import { Cluster } from './cluster.js';
import { History, type NemesisEvent, type QueueOp, type RegisterOp, type SessionOp, type WatcherLog } from './history.js';
import { call, sleep } from './http.js';
import { Nemesis, type Fault, type NemesisOptions } from './nemesis.js';
import { Random } from './random.js';
import { converge, diffTrees, dumpTree } from './final.js';
import { checkLinearizable, type Verdict } from './checker/linearizability.js';
import { registerModel, describeOp } from './checker/register-model.js';
import { checkPlainReads, registerOperations, type Anomaly } from './checker/registers.js';
import { checkQueue } from './checker/queue.js';
import { checkSessions } from './checker/sessions.js';
import { checkWatches } from './checker/watches.js';
import type { WorkloadContext } from './workloads/context.js';
import { REGISTER_ROOT, registerClient, registerKeys, registerOp } from './workloads/register.js';
import { QUEUE_ROOT, queueClient } from './workloads/queue.js';
import { EPHEMERAL_ROOT, sessionClient } from './workloads/sessions.js';
import { Watcher } from './workloads/watches.js';

/** Time a new leader may take, beyond the session timeout, to expire again a session whose first expiry did not commit. */
const EXPIRY_ELECTION_ALLOWANCE_MS = 5000;

export interface RunOptions {
  seed: number;
  timeMs: number;
  faults: Fault[];
  nodes: number;
  registerClients: number;
  keys: number;
  queueClients: number;
  sessionClients: number;
  watchers: number;
  opTimeoutMs: number;
  thinkMs: number;
  sessionTimeoutMs: number;
  /** Time budget of the linearizability search; past it the verdict is unknown. */
  checkBudgetMs: number;
  nemesis: Omit<NemesisOptions, 'faults'>;
  /** zoo.cfg timing lines. */
  zooCfg: string[];
  logDir?: string;
  /** zkgate entry point (see build-copy.ts). */
  bin?: string;
  keepFiles?: boolean;
  log?: (line: string) => void;
}

export interface Check {
  name: string;
  verdict: Verdict | 'fail';
  anomalies: Anomaly[];
  stats?: Record<string, number>;
}

export interface RunResult {
  options: RunOptions;
  verdict: 'ok' | 'fail' | 'unknown';
  checks: Check[];
  ops: (RegisterOp | QueueOp | SessionOp)[];
  timeline: NemesisEvent[];
  watchers: WatcherLog[];
  durationMs: number;
  links: Record<string, { connections: number; frames: number; dropped: number; delayed: number }>;
  error?: string;
  /** Progress lines with their time since the start. */
  log: string[];
}

export function defaultRunOptions(seed: number, timeMs: number, faults: Fault[]): RunOptions {
  return {
    seed,
    timeMs,
    faults,
    nodes: 3,
    registerClients: 5,
    keys: 3,
    queueClients: 2,
    sessionClients: 2,
    watchers: 3,
    opTimeoutMs: 6000,
    thinkMs: 20,
    sessionTimeoutMs: 1000,
    checkBudgetMs: 30000,
    nemesis: { quietMs: [1000, 3000], holdMs: [1500, 5000], pauseMs: [1500, 4000], maxFaults: 10000 },
    // Small timings: elections within about a second, sessions of 0.5-5 s, compaction every few hundred writes.
    zooCfg: ['tickTime=250', 'initLimit=40', 'syncLimit=10', 'raftTickMs=50', 'electionTicks=10', 'proposalTimeoutMs=3000', 'leaderWaitMs=1500', 'snapCount=500', 'logRetainEntries=200'],
  };
}

async function setup(cluster: Cluster): Promise<void> {
  const deadline = Date.now() + 60000;
  for (const p of ['/jepsen', REGISTER_ROOT, QUEUE_ROOT, EPHEMERAL_ROOT]) {
    for (;;) {
      const leader = await cluster.leader();
      const a = leader === undefined ? undefined : await call(`${cluster.node(leader).url}/v1/znodes${p}`, 'POST', { timeoutMs: 5000 });
      if (a && (a.kind === 'ok' || a.error === 'NodeExists')) break;
      if (Date.now() > deadline) throw new Error(`could not create ${p}`);
      await sleep(100);
    }
  }
}

function verdictOf(anomalies: Anomaly[]): 'ok' | 'fail' {
  return anomalies.length > 0 ? 'fail' : 'ok';
}

export async function runJepsen(o: RunOptions): Promise<RunResult> {
  const t0 = Date.now();
  const lines: string[] = [];
  const log = (line: string) => {
    const l = `+${((Date.now() - t0) / 1000).toFixed(1)}s ${line}`;
    lines.push(l);
    o.log?.(l);
  };
  const rand = new Random(o.seed);
  let history = new History();
  const linkRand = rand.fork(7);
  const cluster = new Cluster({ size: o.nodes, extra: o.zooCfg, random: () => linkRand.float(), logDir: o.logDir, bin: o.bin });
  const started = Date.now();
  const checks: Check[] = [];
  // The history's clock starts with the workloads (re-created after setup); the nemesis reads it through this closure.
  const nemesis = new Nemesis(cluster, rand.fork(1), () => history.now(), { ...o.nemesis, faults: o.faults });
  const watchers: Watcher[] = [];
  let error: string | undefined;
  const links: RunResult['links'] = {};
  try {
    await cluster.start();
    await setup(cluster);
    history = new History();
    log(`cluster of ${o.nodes} up; running ${o.timeMs} ms with nemesis [${o.faults.join(', ') || 'none'}], seed ${o.seed}`);
    let stop = false;
    const urls = new Map(cluster.nodes.map((n) => [n.id, n.url]));
    const ctx = (salt: number): WorkloadContext => ({ history, urls, rand: rand.fork(100 + salt), stopped: () => stop, opTimeoutMs: o.opTimeoutMs, thinkMs: o.thinkMs });
    const keys = registerKeys(o.keys);
    const opened: string[] = [];
    for (let i = 0; i < o.watchers; i++) {
      const key = keys[i % keys.length] as string;
      const w = new Watcher(ctx(300 + i), i + 1, `${REGISTER_ROOT}/${key}`, key);
      w.start();
      watchers.push(w);
    }
    const loops = [
      ...Array.from({ length: o.registerClients }, (_, i) => registerClient(ctx(i), keys)),
      ...Array.from({ length: o.queueClients }, (_, i) => queueClient(ctx(100 + i))),
      ...Array.from({ length: o.sessionClients }, (_, i) => sessionClient(ctx(200 + i), { sessionTimeoutMs: o.sessionTimeoutMs, ephemeralsPerSession: 3 }, opened)),
    ];
    nemesis.start(history.now() + o.timeMs);
    await sleep(o.timeMs);
    log('healing');
    await nemesis.stop();
    stop = true;
    await Promise.all(loops);
    log(`workloads stopped after ${history.ops.length} operations; waiting for convergence`);
    const zxid = await converge(cluster);
    const leader = (await cluster.leader()) as number;
    const lurl = cluster.node(leader).url;
    // Final linearizable reads of every register join the history: a lost acknowledged write makes it illegal.
    const finalClient = history.newClient();
    for (const key of keys) {
      for (let i = 0; i < 20; i++) {
        const r = await registerOp(ctx(999), finalClient, leader, lurl, 'get', key, undefined, undefined, zxid);
        if (r.outcome !== 'unknown' && r.error !== 'NotApplied') break;
        await sleep(200);
      }
    }
    log(`converged at zxid ${zxid}; final reads done`);
    await Promise.all(watchers.map((w) => w.catchUp(zxid, 15000)));
    for (const w of watchers) await w.stop();
    log('watchers caught up; waiting for sessions to expire');
    // Every session has stopped being kept alive: give them several timeouts to expire.
    await sleep(o.sessionTimeoutMs * 4);
    const end = await converge(cluster);
    log(`converged again at ${end}; dumping trees`);
    const trees = await Promise.all(cluster.nodes.map((n) => dumpTree(n.url, end)));
    const base = trees[0] as Map<string, import('./final.js').DumpedNode>;
    const treeAnomalies: Anomaly[] = [];
    trees.forEach((t, i) => {
      for (const d of diffTrees(base, t)) treeAnomalies.push({ kind: 'trees-differ', detail: `node ${cluster.nodes[0]?.id} vs node ${cluster.nodes[i]?.id}: ${d}` });
    });
    const queueChildren = new Map<string, string>();
    const ephemerals = new Map<string, string>();
    for (const [p, n] of base) {
      if (p.startsWith(`${QUEUE_ROOT}/`)) queueChildren.set(p, Buffer.from(n.data, 'base64').toString('utf8'));
      if (p.startsWith(`${EPHEMERAL_ROOT}/`)) ephemerals.set(p, String(n.stat.ephemeralOwner));
    }
    const alive = new Set<string>();
    for (const sid of opened) {
      const r = await call(`${lurl}/v1/sessions/${sid}`, 'GET', { headers: { 'ZK-Min-Zxid': String(end) }, timeoutMs: 5000 });
      if (r.kind === 'ok') alive.add(sid);
    }
    log(`final state read at zxid ${end}; checking`);

    const registerOps = history.ops.filter((x): x is RegisterOp => x.type === 'register');
    const { ops: linOps, anomalies: convAnomalies } = registerOperations(registerOps);
    const lin = checkLinearizable(registerModel, linOps, o.checkBudgetMs);
    const linAnomalies: Anomaly[] = lin.partitions
      .filter((p) => p.verdict === 'illegal')
      .map((p) => ({ kind: 'not-linearizable', detail: `key ${p.key}: no linearization; longest prefix ${p.longest?.length ?? 0} of ${p.ops} ops; could not place next: ${(p.stuckAt ?? []).slice(-6).map(describeOp).join(' | ')}` }));
    checks.push({ name: 'linearizable registers (writes + ?consistency=linearizable reads)', verdict: lin.verdict === 'illegal' ? 'fail' : lin.verdict, anomalies: [...linAnomalies, ...convAnomalies], stats: { ops: linOps.length, elapsedMs: lin.elapsedMs, unknownOps: linOps.filter((x) => x.output === undefined).length } });
    const plain = checkPlainReads(registerOps);
    checks.push({ name: 'plain reads: per-client order, never back in zxid, ZK-Zxid covers what was read', verdict: verdictOf(plain), anomalies: plain, stats: { reads: registerOps.filter((x) => x.f === 'read' && x.outcome === 'ok').length } });
    const q = checkQueue(history.ops.filter((x): x is QueueOp => x.type === 'queue'), { children: queueChildren });
    checks.push({ name: 'queue: dequeued at most once, nothing acknowledged lost', verdict: verdictOf(q.anomalies), anomalies: q.anomalies, stats: q.stats });
    const s = checkSessions(history.ops.filter((x): x is SessionOp => x.type === 'session'), { ephemerals, alive }, o.sessionTimeoutMs * 2 + EXPIRY_ELECTION_ALLOWANCE_MS);
    checks.push({ name: 'sessions: an ephemeral exists only while its session lives', verdict: verdictOf(s), anomalies: s, stats: { sessions: opened.length, ephemeralsAtEnd: ephemerals.size } });
    const w = checkWatches(watchers.map((x) => x.log), registerOps);
    checks.push({ name: 'watches: every change in zxid order, or a resync', verdict: verdictOf(w.anomalies), anomalies: w.anomalies, stats: w.stats });
    checks.push({ name: 'no node exited unless the nemesis killed it', verdict: cluster.crashes.length > 0 ? 'fail' : 'ok', anomalies: cluster.crashes.map((c) => ({ kind: 'crash', detail: `node ${c.id} (pid ${c.pid}) exited on its own (${c.how}) at ${new Date(c.at).toISOString()}; see its log` })) });
    checks.push({ name: 'trees identical on every node', verdict: verdictOf(treeAnomalies), anomalies: treeAnomalies, stats: { znodes: base.size, zxid: end } });
  } catch (e) {
    error = (e as Error).stack ?? String(e);
    checks.push({ name: 'run completed', verdict: 'fail', anomalies: [{ kind: 'harness', detail: (e as Error).message }] });
    // A crash is often why a run could not finish (e.g. the nodes never converged): say so.
    if (cluster.crashes.length > 0) checks.push({ name: 'no node exited unless the nemesis killed it', verdict: 'fail', anomalies: cluster.crashes.map((c) => ({ kind: 'crash', detail: `node ${c.id} (pid ${c.pid}) exited on its own (${c.how}) at ${new Date(c.at).toISOString()}; see its log` })) });
  } finally {
    await nemesis.stop().catch(() => {});
    for (const w of watchers) await w.stop().catch(() => {});
    for (const p of cluster.proxies) links[`${p.lo}-${p.hi}`] = p.stats();
    await cluster.stop(o.keepFiles);
  }
  const verdict = checks.some((c) => c.verdict === 'fail') ? 'fail' : checks.some((c) => c.verdict === 'unknown') ? 'unknown' : 'ok';
  return { options: o, verdict, checks, ops: history.ops, timeline: nemesis.timeline, watchers: watchers.map((x) => x.log), durationMs: Date.now() - started, links, error, log: lines };
}
