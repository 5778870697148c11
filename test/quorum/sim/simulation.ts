// Deterministic simulation of a cluster: one seeded random source drives the network, disks,
// crashes, partitions and client load; safety is checked after every step, and liveness mode
// heals everything and then requires the cluster to commit and apply a fresh entry everywhere.

import { SeededRand } from '../../../server/quorum/core/rand.js';
import type { Message, Ready } from '../../../server/quorum/core/types.js';
import { SafetyChecker, bytesEqual, chainHash } from './checker.js';
import type { DiskWrite } from './disk.js';
import { SimNetwork } from './network.js';
import { SimNode, encodeState, SIM_ELECTION_TICKS } from './node.js';

export const TICK_UNITS = 10;
export const DEFAULT_STEPS = 3000;
/** After healing: 400 ticks, i.e. 20-40 election timeouts, to elect a leader and converge. */
export const LIVENESS_BUDGET_UNITS = 400 * TICK_UNITS;
const MAX_READY_ROUNDS = 32;

export interface SimOptions {
  seed: number;
  /** Voters; when omitted the seed picks 3 or 5. */
  nodes?: number;
  steps?: number;
  liveness?: boolean;
}

export interface SimStats {
  nodes: number;
  learners: number;
  steps: number;
  committed: number;
  leaders: number;
  crashes: number;
  crashesBeforeSync: number;
  partitions: number;
  messages: number;
  dropped: number;
  duplicated: number;
  lostWrites: number;
  proposalsAccepted: number;
  readsRequested: number;
  readsServed: number;
  transfers: number;
  compactions: number;
  snapshotsSent: number;
  checks: number;
  convergedAfterUnits: number;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  error: string | null;
  stats: SimStats;
}

/** Per-seed fault intensities, so the seed sweep covers calm and hostile worlds alike. */
interface FaultProfile {
  crashProbability: number;
  crashBeforeSyncProbability: number;
  partitionProbability: number;
  healProbability: number;
  proposeProbability: number;
  readProbability: number;
  transferProbability: number;
  compactProbability: number;
  tickSkewProbability: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Simulation {
  private readonly rand: SeededRand;
  private readonly profile: FaultProfile;
  private readonly nodes = new Map<number, SimNode>();
  private readonly network: SimNetwork;
  readonly checker = new SafetyChecker();
  private readonly voters: number[];
  private readonly learners: number[];
  private readonly reads = new Map<string, number>();
  private readonly snapshotReports: Array<{ from: number; to: number; delivered: boolean }> = [];
  private now = 0;
  private faultsEnabled = true;
  private proposalSeq = 0;
  readonly stats: SimStats;

  constructor(readonly options: SimOptions) {
    this.rand = new SeededRand(options.seed);
    const rand = this.rand;
    const voterCount = options.nodes ?? (rand.chance(0.5) ? 3 : 5);
    this.voters = Array.from({ length: voterCount }, (_, i) => i + 1);
    this.learners = rand.chance(0.4) ? [voterCount + 1] : [];
    const hostile = rand.chance(0.5);
    this.profile = {
      crashProbability: hostile ? 0.002 : 0.0005,
      crashBeforeSyncProbability: hostile ? 0.01 : 0.002,
      partitionProbability: hostile ? 0.004 : 0.001,
      healProbability: 0.004,
      proposeProbability: 0.02 + rand.float() * 0.08,
      readProbability: 0.01 + rand.float() * 0.03,
      transferProbability: rand.float() * 0.002,
      compactProbability: rand.float() * 0.02,
      tickSkewProbability: rand.float() * 0.1,
    };
    this.network = new SimNetwork(rand, {
      dropProbability: hostile ? rand.float() * 0.15 : rand.float() * 0.03,
      duplicateProbability: rand.float() * 0.05,
      delayMinUnits: 1,
      delayMaxUnits: 2 + rand.intn(hostile ? 40 : 15),
    });
    const smallWindows = rand.chance(0.3);
    for (const id of [...this.voters, ...this.learners]) {
      this.nodes.set(id, new SimNode(id, this.voters, this.learners, options.seed, smallWindows));
    }
    this.stats = {
      nodes: voterCount,
      learners: this.learners.length,
      steps: 0,
      committed: 0,
      leaders: 0,
      crashes: 0,
      crashesBeforeSync: 0,
      partitions: 0,
      messages: 0,
      dropped: 0,
      duplicated: 0,
      lostWrites: 0,
      proposalsAccepted: 0,
      readsRequested: 0,
      readsServed: 0,
      transfers: 0,
      compactions: 0,
      snapshotsSent: 0,
      checks: 0,
      convergedAfterUnits: 0,
    };
  }

  run(): void {
    for (const node of this.nodes.values()) {
      node.start();
    }
    const steps = this.options.steps ?? DEFAULT_STEPS;
    for (let i = 0; i < steps; i++) {
      this.step();
    }
    if (this.options.liveness) {
      this.requireConvergence();
    }
    this.finishStats();
  }

  private step(): void {
    this.now++;
    this.stats.steps++;
    if (this.faultsEnabled) {
      this.injectFaults();
    }
    for (const node of this.nodes.values()) {
      if (!node.alive() && node.restartAt <= this.now) {
        this.restart(node);
      }
    }
    if (this.now % TICK_UNITS === 0) {
      this.tickAll();
    }
    for (const message of this.network.due(this.now)) {
      this.deliver(message);
    }
    this.clientLoad();
  }

  private aliveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.alive());
  }

  private pick<T>(items: T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.rand.intn(items.length)];
  }

  private tickAll(): void {
    for (const node of this.aliveNodes()) {
      // Clock skew: a node's tick may be late (skipped) or early (doubled).
      let ticks = 1;
      if (this.rand.chance(this.profile.tickSkewProbability)) {
        ticks = this.rand.chance(0.5) ? 0 : 2;
      }
      for (let t = 0; t < ticks && node.alive(); t++) {
        node.node().tick();
        this.handleReady(node);
      }
    }
  }

  private deliver(message: Message): void {
    const target = this.nodes.get(message.to);
    const sender = this.nodes.get(message.from);
    const lost = target === undefined || !target.alive() || this.network.isCut(message.from, message.to);
    if (message.type === 'snap' && sender !== undefined) {
      this.snapshotReports.push({ from: message.from, to: message.to, delivered: !lost });
    }
    if (!lost) {
      target.node().step(message);
      this.handleReady(target);
    }
    this.flushSnapshotReports();
  }

  private flushSnapshotReports(): void {
    while (this.snapshotReports.length > 0) {
      const report = this.snapshotReports.shift();
      const sender = report === undefined ? undefined : this.nodes.get(report.from);
      if (report !== undefined && sender !== undefined && sender.alive()) {
        sender.node().reportSnapshot(report.to, report.delivered);
        this.handleReady(sender);
      }
    }
  }

  // ---- the application's Ready loop: persist → send → apply → advance ----------------------

  private handleReady(node: SimNode): void {
    for (let round = 0; round < MAX_READY_ROUNDS && node.alive() && node.node().hasReady(); round++) {
      const ready = node.node().ready();
      if (!this.persist(node, ready)) {
        return;
      }
      this.observe(node, ready);
      for (const message of ready.messages) {
        this.send(message);
      }
      this.apply(node, ready);
      node.node().advance(ready);
      this.observeLeader(node);
    }
  }

  /** False if the node crashed before its writes were synced (its messages never leave). */
  private persist(node: SimNode, ready: Ready): boolean {
    const batch: DiskWrite[] = [];
    if (ready.snapshot !== null) {
      batch.push({ kind: 'snapshot', snapshot: ready.snapshot });
    }
    if (ready.entries.length > 0) {
      batch.push({ kind: 'entries', entries: ready.entries });
    }
    if (ready.hardState !== null) {
      batch.push({ kind: 'hardState', hardState: ready.hardState });
    }
    if (batch.length > 0) {
      node.disk.write(batch);
    }
    if (this.faultsEnabled && this.rand.chance(this.profile.crashBeforeSyncProbability)) {
      this.stats.crashesBeforeSync++;
      this.crash(node);
      return false;
    }
    if (ready.mustSync) {
      node.disk.sync();
    }
    return true;
  }

  private observe(node: SimNode, ready: Ready): void {
    if (ready.entries.length > 0 || ready.hardState !== null) {
      const view = node.logView();
      this.checker.onAppend(node.id, ready.entries, view);
      if (ready.hardState !== null) {
        node.term = ready.hardState.term;
        this.checker.onCommit(node.id, ready.hardState.commit, view);
      }
    }
    if (ready.softState !== null) {
      node.role = ready.softState.role;
      if (node.role !== 'leader') {
        this.checker.onNotLeader(node.id);
      }
    }
  }

  private send(message: Message): void {
    const outcome = this.network.send(message, this.now);
    if (message.type === 'snap') {
      this.stats.snapshotsSent++;
      if (outcome === 'dropped') {
        this.snapshotReports.push({ from: message.from, to: message.to, delivered: false });
      }
    }
  }

  private apply(node: SimNode, ready: Ready): void {
    if (ready.snapshot !== null) {
      node.restoreState(ready.snapshot);
      this.checker.onStateRestored(node.id, node.appliedIndex, node.digest);
    }
    for (const entry of ready.committedEntries) {
      if (entry.index !== node.appliedIndex + 1) {
        throw new Error(`node ${node.id} applies ${entry.index} after ${node.appliedIndex}`);
      }
      node.digest = chainHash(node.digest, entry);
      node.appliedIndex = entry.index;
      this.checker.onApply(node.id, entry, node.digest);
    }
    for (const readState of ready.readStates) {
      // Duplicated responses may answer the same read twice; each answer must be safe.
      const key = decoder.decode(readState.ctx);
      const committedAtRequest = this.reads.get(key);
      if (committedAtRequest === undefined) {
        throw new Error(`node ${node.id} got a read state for unknown ctx ${key}`);
      }
      this.checker.onReadState(node.id, readState.index, committedAtRequest);
      this.stats.readsServed++;
    }
  }

  private observeLeader(node: SimNode): void {
    if (node.role !== 'leader' || !node.alive()) {
      return;
    }
    const status = node.node().status();
    const view = { term: (i: number) => node.node().term(i), firstIndex: status.firstIndex, lastIndex: status.lastIndex };
    if (node.ledTerm !== status.term) {
      node.ledTerm = status.term;
      this.stats.leaders++;
      this.checker.onLeader(node.id, status.term, view);
    }
    this.checker.onLeaderLog(node.id, status.term, status.commit, view);
  }

  // ---- faults ------------------------------------------------------------------------------

  private crash(node: SimNode): void {
    node.stop();
    node.disk.crash(this.rand);
    node.restartAt = this.now + 20 + this.rand.intn(100 * TICK_UNITS);
    this.checker.onRestart(node.id);
    this.stats.crashes++;
  }

  private restart(node: SimNode): void {
    node.start();
    this.checker.onRestart(node.id);
    this.checker.onStateRestored(node.id, node.appliedIndex, node.digest);
    this.handleReady(node);
  }

  private injectFaults(): void {
    const profile = this.profile;
    if (this.rand.chance(profile.crashProbability)) {
      const victim = this.pick(this.aliveNodes());
      if (victim !== undefined) {
        this.crash(victim);
      }
    }
    if (this.rand.chance(profile.partitionProbability)) {
      this.partition();
    }
    if (this.network.cutCount() > 0 && this.rand.chance(profile.healProbability)) {
      this.network.heal();
    }
  }

  private partition(): void {
    this.stats.partitions++;
    const ids = [...this.nodes.keys()];
    const kind = this.rand.intn(3);
    if (kind === 0) {
      // Symmetric split into two non-empty sides.
      const side = new Set(ids.filter(() => this.rand.chance(0.5)));
      if (side.size === 0 || side.size === ids.length) {
        side.clear();
        side.add(ids[this.rand.intn(ids.length)]);
      }
      for (const a of ids) {
        for (const b of ids) {
          if (side.has(a) !== side.has(b)) {
            this.network.cutLink(a, b);
          }
        }
      }
    } else if (kind === 1) {
      // One-way: a few directed links stop working, their reverse still works.
      const count = 1 + this.rand.intn(ids.length);
      for (let i = 0; i < count; i++) {
        const from = ids[this.rand.intn(ids.length)];
        const to = ids[this.rand.intn(ids.length)];
        if (from !== to) {
          this.network.cutLink(from, to);
        }
      }
    } else {
      // Isolate the current leader (if any) or a random node, in one or both directions.
      const leader = ids.find((id) => this.nodes.get(id)?.role === 'leader') ?? ids[this.rand.intn(ids.length)];
      const inbound = this.rand.chance(0.7);
      const outbound = !inbound || this.rand.chance(0.7);
      for (const other of ids) {
        if (other !== leader) {
          if (outbound) {
            this.network.cutLink(leader, other);
          }
          if (inbound) {
            this.network.cutLink(other, leader);
          }
        }
      }
    }
  }

  // ---- client load -------------------------------------------------------------------------

  private clientLoad(): void {
    const profile = this.profile;
    if (this.rand.chance(profile.proposeProbability)) {
      this.propose();
    }
    if (this.rand.chance(profile.readProbability)) {
      const node = this.pick(this.aliveNodes());
      if (node !== undefined) {
        const key = `read-${this.options.seed}-${this.stats.readsRequested++}`;
        const result = node.node().readIndex(encoder.encode(key));
        if (result.ok) {
          this.reads.set(key, this.checker.committedIndex());
        }
        this.handleReady(node);
      }
    }
    if (this.rand.chance(profile.transferProbability)) {
      const node = this.pick(this.aliveNodes().filter((n) => n.role === 'leader'));
      const target = this.pick(this.voters);
      if (node !== undefined && target !== undefined && node.node().transferLeadership(target).ok) {
        this.stats.transfers++;
        this.handleReady(node);
      }
    }
    if (this.rand.chance(profile.compactProbability)) {
      this.compact();
    }
  }

  private propose(): boolean {
    const leaders = this.aliveNodes().filter((n) => n.role === 'leader');
    const node = this.pick(leaders.length > 0 && this.rand.chance(0.9) ? leaders : this.aliveNodes());
    if (node === undefined) {
      return false;
    }
    const count = 1 + this.rand.intn(3);
    const datas: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      datas.push(encoder.encode(`p${this.proposalSeq++}`));
    }
    const result = node.node().propose(datas);
    if (result.ok) {
      this.stats.proposalsAccepted += count;
    }
    this.handleReady(node);
    return result.ok;
  }

  /** Snapshot the state machine at its applied index and drop most of the log below it. */
  private compact(): void {
    const node = this.pick(this.aliveNodes());
    if (node === undefined) {
      return;
    }
    const snapshotIndex = node.disk.live.snapshot().metadata.index;
    if (node.appliedIndex <= snapshotIndex + 4) {
      return;
    }
    const keep = this.rand.intn(5);
    node.disk.write([{
      kind: 'compact',
      snapshotIndex: node.appliedIndex,
      compactTo: Math.max(snapshotIndex, node.appliedIndex - keep),
      confState: { voters: this.voters, learners: this.learners },
      data: encodeState(node.appliedIndex, node.digest),
    }]);
    node.disk.sync();
    this.stats.compactions++;
  }

  // ---- liveness ----------------------------------------------------------------------------

  /** Heal every fault, then require a fresh entry to be committed and applied on every node. */
  private requireConvergence(): void {
    this.faultsEnabled = false;
    this.network.heal();
    this.network.faults = { dropProbability: 0, duplicateProbability: 0, delayMinUnits: 1, delayMaxUnits: 5 };
    for (const node of this.nodes.values()) {
      if (!node.alive()) {
        node.restartAt = this.now;
      }
    }
    const healedAt = this.now;
    let marker: { index: number; data: Uint8Array } | null = null;
    while (this.now - healedAt < LIVENESS_BUDGET_UNITS) {
      this.step();
      if (marker !== null) {
        const applied = this.checker.appliedEntry(marker.index);
        if (applied !== undefined && !bytesEqual(applied.data, marker.data)) {
          marker = null; // our marker lost its slot to another leader's entry: propose again
        }
      }
      if (marker === null && this.now % (SIM_ELECTION_TICKS * TICK_UNITS) === 0) {
        marker = this.proposeMarker();
      }
      if (marker !== null && this.allApplied(marker.index)) {
        this.stats.convergedAfterUnits = this.now - healedAt;
        return;
      }
    }
    throw new Error(
      `liveness: no convergence within ${LIVENESS_BUDGET_UNITS} units after healing; ` +
        `marker ${marker === null ? 'not accepted' : `at ${marker.index}`}; ${this.describeNodes()}`,
    );
  }

  private proposeMarker(): { index: number; data: Uint8Array } | null {
    const leader = this.aliveNodes().find((n) => n.role === 'leader');
    if (leader === undefined) {
      return null;
    }
    const data = encoder.encode(`marker-${this.now}`);
    const result = leader.node().propose([data]);
    this.handleReady(leader);
    return result.ok ? { index: result.firstIndex, data } : null;
  }

  private allApplied(index: number): boolean {
    for (const node of this.nodes.values()) {
      if (!node.alive() || node.appliedIndex < index) {
        return false;
      }
    }
    return true;
  }

  describeNodes(): string {
    const parts: string[] = [];
    for (const node of this.nodes.values()) {
      if (!node.alive()) {
        parts.push(`${node.id}:down`);
        continue;
      }
      const s = node.node().status();
      parts.push(`${node.id}:${s.role} term=${s.term} lead=${s.leaderId} commit=${s.commit} applied=${s.applied} last=${s.lastIndex}`);
    }
    return parts.join(' | ');
  }

  private finishStats(): void {
    this.stats.committed = this.checker.committedIndex();
    this.stats.messages = this.network.sent;
    this.stats.dropped = this.network.dropped;
    this.stats.duplicated = this.network.duplicated;
    this.stats.checks = this.checker.checks;
    let lost = 0;
    for (const node of this.nodes.values()) {
      lost += node.disk.lostWrites;
    }
    this.stats.lostWrites = lost;
  }
}

/** Runs one seed; never throws: a failure comes back with its seed and message. */
export function runSeed(options: SimOptions): SimResult {
  const simulation = new Simulation(options);
  try {
    simulation.run();
    return { seed: options.seed, ok: true, error: null, stats: simulation.stats };
  } catch (error) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return { seed: options.seed, ok: false, error: `at step ${simulation.stats.steps}: ${detail}`, stats: simulation.stats };
  }
}

export function replayCommand(options: SimOptions): string {
  const parts = [`node dist/bin/sim.js --seeds 1 --start ${options.seed}`];
  if (options.nodes !== undefined) {
    parts.push(`--nodes ${options.nodes}`);
  }
  if (options.steps !== undefined) {
    parts.push(`--steps ${options.steps}`);
  }
  if (options.liveness) {
    parts.push('--liveness');
  }
  return parts.join(' ');
}
