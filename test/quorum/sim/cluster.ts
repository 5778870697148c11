// The simulated cluster: SimNodes on a SimNetwork, each Ready handled as the application's loop does (persist → send
// → apply → advance) and reported to the safety checker, and what a crash, a restart or a partition does to it.

import type { SeededRand } from '../../../server/quorum/core/rand.js';
import type { Message, Ready } from '../../../server/quorum/core/types.js';
import { SafetyChecker, chainHash } from './checker.js';
import type { DiskWrite } from './disk.js';
import type { SimNetwork } from './network.js';
import type { SimNode } from './node.js';

export const TICK_UNITS = 10;
const MAX_READY_ROUNDS = 32;

/** The counters of a run that the cluster advances itself; the run's SimStats carries them among the others. */
interface ClusterCounts {
  crashes: number;
  crashesBeforeSync: number;
  diskLosses: number;
  leaders: number;
  partitions: number;
  snapshotsSent: number;
  readsServed: number;
}

const decoder = new TextDecoder();

export class SimCluster {
  readonly nodes = new Map<number, SimNode>();
  readonly checker = new SafetyChecker();
  readonly reads = new Map<string, number>();
  private readonly snapshotReports: Array<{ from: number; to: number; delivered: boolean }> = [];
  /** Simulated time in units (a tick every TICK_UNITS), advanced by the scenario's steps. */
  now = 0;
  /** Cleared when the scenario heals the world for the liveness check: no crash between a write and its sync then. */
  faultsEnabled = true;

  constructor(
    private readonly rand: SeededRand,
    readonly network: SimNetwork,
    private readonly crashBeforeSyncProbability: number,
    private readonly stats: ClusterCounts,
  ) {}

  aliveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.alive());
  }

  allApplied(index: number): boolean {
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

  deliver(message: Message): void {
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

  handleReady(node: SimNode): void {
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
    // As the engine: a target a leader just set (or a won election's end of it) is durable before the entries.
    if (node.disk.catchUp === 'unheard') node.disk.catchUp = node.node().catchUpRecorded();
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
    if (this.faultsEnabled && this.rand.chance(this.crashBeforeSyncProbability)) {
      this.stats.crashesBeforeSync++;
      this.crash(node);
      return false;
    }
    if (ready.mustSync) {
      node.disk.sync();
    }
    // As the engine: caught up (the mark goes) once the entries are durable, before the votes that depend on it leave.
    if (node.disk.catchUp !== null && node.node().catchUp() === null) node.disk.catchUp = null;
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

  crash(node: SimNode): void {
    node.stop();
    node.disk.crash(this.rand);
    node.restartAt = this.now + 20 + this.rand.intn(100 * TICK_UNITS);
    this.checker.onRestart(node.id);
    this.stats.crashes++;
  }

  /** The node's disk is lost: it stops, and comes back on an empty disk with the same id. */
  loseDisk(node: SimNode): void {
    this.crash(node);
    node.disk.replace();
    this.network.forget(node.id);
    this.stats.diskLosses++;
  }

  /**
   * Whether a disk may be lost now. The care (core/amnesia.ts) covers one lost disk at a time, and not one lost while
   * another voter holds no log at all (a member down since before anything reached its disk): a member that lost its
   * disk and such a one look like two new members, a majority of three, and elect each other without the data. That
   * is a documented limit (README, "A member that lost its disk"); what the third member then does is tested apart
   * (histories: test/quorum/history.test.ts).
   */
  mayLoseDisk(): boolean {
    for (const node of this.nodes.values()) {
      if ((node.alive() ? node.node().catchUp() : node.disk.catchUp) !== null) return false;
      if (node.disk.holdsNoLog()) return false;
    }
    return true;
  }

  restart(node: SimNode): void {
    node.start();
    this.checker.onRestart(node.id);
    this.checker.onStateRestored(node.id, node.appliedIndex, node.digest);
    this.handleReady(node);
  }

  partition(): void {
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
}
