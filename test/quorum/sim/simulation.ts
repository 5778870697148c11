// Deterministic simulation of a cluster: one seeded random source drives the network, disks,
// crashes, partitions and client load; safety is checked after every step, and liveness mode
// heals everything and then requires the cluster to commit and apply a fresh entry everywhere.

import { SeededRand } from '../../../server/quorum/core/rand.js';
import { bytesEqual } from './checker.js';
import { SimCluster, TICK_UNITS } from './cluster.js';
import { SimNetwork } from './network.js';
import { SimNode, encodeState, SIM_ELECTION_TICKS } from './node.js';

export const DEFAULT_STEPS = 3000;
/** After healing: 400 ticks, i.e. 20-40 election timeouts, to elect a leader and converge. */
export const LIVENESS_BUDGET_UNITS = 400 * TICK_UNITS;

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
  diskLosses: number;
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
  /** A node's disk replaced by an empty one (same id), only while no node is still catching up from one. */
  diskLossProbability: number;
  partitionProbability: number;
  healProbability: number;
  proposeProbability: number;
  readProbability: number;
  transferProbability: number;
  compactProbability: number;
  tickSkewProbability: number;
}

const encoder = new TextEncoder();

export class Simulation {
  private readonly rand: SeededRand;
  private readonly diskRand: SeededRand;
  private readonly profile: FaultProfile;
  private readonly cluster: SimCluster;
  private readonly voters: number[];
  private readonly learners: number[];
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
      diskLossProbability: 0,
    };
    const network = new SimNetwork(rand, {
      dropProbability: hostile ? rand.float() * 0.15 : rand.float() * 0.03,
      duplicateProbability: rand.float() * 0.05,
      delayMinUnits: 1,
      delayMaxUnits: 2 + rand.intn(hostile ? 40 : 15),
    });
    const smallWindows = rand.chance(0.3);
    // Its own stream, so that a seed without lost disks has exactly the run it had before they were simulated.
    this.diskRand = new SeededRand(options.seed ^ 0x6d15c);
    this.profile.diskLossProbability = this.diskRand.chance(0.5) ? this.profile.crashProbability / 2 : 0;
    this.stats = {
      nodes: voterCount,
      learners: this.learners.length,
      steps: 0,
      committed: 0,
      leaders: 0,
      crashes: 0,
      crashesBeforeSync: 0,
      diskLosses: 0,
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
    this.cluster = new SimCluster(rand, network, this.profile.crashBeforeSyncProbability, this.stats);
    for (const id of [...this.voters, ...this.learners]) {
      this.cluster.nodes.set(id, new SimNode(id, this.voters, this.learners, options.seed, smallWindows));
    }
  }

  run(): void {
    for (const node of this.cluster.nodes.values()) {
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
    this.cluster.now++;
    this.stats.steps++;
    if (this.cluster.faultsEnabled) {
      this.injectFaults();
    }
    for (const node of this.cluster.nodes.values()) {
      if (!node.alive() && node.restartAt <= this.cluster.now) {
        this.cluster.restart(node);
      }
    }
    if (this.cluster.now % TICK_UNITS === 0) {
      this.tickAll();
    }
    for (const message of this.cluster.network.due(this.cluster.now)) {
      this.cluster.deliver(message);
    }
    this.clientLoad();
  }

  private pick<T>(items: T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.rand.intn(items.length)];
  }

  private tickAll(): void {
    for (const node of this.cluster.aliveNodes()) {
      // Clock skew: a node's tick may be late (skipped) or early (doubled).
      let ticks = 1;
      if (this.rand.chance(this.profile.tickSkewProbability)) {
        ticks = this.rand.chance(0.5) ? 0 : 2;
      }
      for (let t = 0; t < ticks && node.alive(); t++) {
        node.node().tick();
        this.cluster.handleReady(node);
      }
    }
  }

  // ---- faults ------------------------------------------------------------------------------

  private injectFaults(): void {
    const profile = this.profile;
    if (this.rand.chance(profile.crashProbability)) {
      const victim = this.pick(this.cluster.aliveNodes());
      if (victim !== undefined) {
        this.cluster.crash(victim);
      }
    }
    if (profile.diskLossProbability > 0 && this.diskRand.chance(profile.diskLossProbability) && this.cluster.mayLoseDisk()) {
      const alive = this.cluster.aliveNodes();
      if (alive.length > 0) {
        this.cluster.loseDisk(alive[this.diskRand.intn(alive.length)]);
      }
    }
    if (this.rand.chance(profile.partitionProbability)) {
      this.cluster.partition();
    }
    if (this.cluster.network.cutCount() > 0 && this.rand.chance(profile.healProbability)) {
      this.cluster.network.heal();
    }
  }

  // ---- client load -------------------------------------------------------------------------

  private clientLoad(): void {
    const profile = this.profile;
    if (this.rand.chance(profile.proposeProbability)) {
      this.propose();
    }
    if (this.rand.chance(profile.readProbability)) {
      const node = this.pick(this.cluster.aliveNodes());
      if (node !== undefined) {
        const key = `read-${this.options.seed}-${this.stats.readsRequested++}`;
        const result = node.node().readIndex(encoder.encode(key));
        if (result.ok) {
          this.cluster.reads.set(key, this.cluster.checker.committedIndex());
        }
        this.cluster.handleReady(node);
      }
    }
    if (this.rand.chance(profile.transferProbability)) {
      const node = this.pick(this.cluster.aliveNodes().filter((n) => n.role === 'leader'));
      const target = this.pick(this.voters);
      if (node !== undefined && target !== undefined && node.node().transferLeadership(target).ok) {
        this.stats.transfers++;
        this.cluster.handleReady(node);
      }
    }
    if (this.rand.chance(profile.compactProbability)) {
      this.compact();
    }
  }

  private propose(): boolean {
    const leaders = this.cluster.aliveNodes().filter((n) => n.role === 'leader');
    const node = this.pick(leaders.length > 0 && this.rand.chance(0.9) ? leaders : this.cluster.aliveNodes());
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
    this.cluster.handleReady(node);
    return result.ok;
  }

  /** Snapshot the state machine at its applied index and drop most of the log below it. */
  private compact(): void {
    const node = this.pick(this.cluster.aliveNodes());
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
    this.cluster.faultsEnabled = false;
    this.cluster.network.heal();
    this.cluster.network.faults = { dropProbability: 0, duplicateProbability: 0, delayMinUnits: 1, delayMaxUnits: 5 };
    for (const node of this.cluster.nodes.values()) {
      if (!node.alive()) {
        node.restartAt = this.cluster.now;
      }
    }
    const healedAt = this.cluster.now;
    let marker: { index: number; data: Uint8Array } | null = null;
    while (this.cluster.now - healedAt < LIVENESS_BUDGET_UNITS) {
      this.step();
      if (marker !== null) {
        const applied = this.cluster.checker.appliedEntry(marker.index);
        if (applied !== undefined && !bytesEqual(applied.data, marker.data)) {
          marker = null; // our marker lost its slot to another leader's entry: propose again
        }
      }
      if (marker === null && this.cluster.now % (SIM_ELECTION_TICKS * TICK_UNITS) === 0) {
        marker = this.proposeMarker();
      }
      if (marker !== null && this.cluster.allApplied(marker.index)) {
        this.stats.convergedAfterUnits = this.cluster.now - healedAt;
        return;
      }
    }
    throw new Error(
      `liveness: no convergence within ${LIVENESS_BUDGET_UNITS} units after healing; ` +
        `marker ${marker === null ? 'not accepted' : `at ${marker.index}`}; ${this.cluster.describeNodes()}`,
    );
  }

  private proposeMarker(): { index: number; data: Uint8Array } | null {
    const leader = this.cluster.aliveNodes().find((n) => n.role === 'leader');
    if (leader === undefined) {
      return null;
    }
    const data = encoder.encode(`marker-${this.cluster.now}`);
    const result = leader.node().propose([data]);
    this.cluster.handleReady(leader);
    return result.ok ? { index: result.firstIndex, data } : null;
  }

  private finishStats(): void {
    this.stats.committed = this.cluster.checker.committedIndex();
    this.stats.messages = this.cluster.network.sent;
    this.stats.dropped = this.cluster.network.dropped;
    this.stats.duplicated = this.cluster.network.duplicated;
    this.stats.checks = this.cluster.checker.checks;
    let lost = 0;
    for (const node of this.cluster.nodes.values()) {
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
