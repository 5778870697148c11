// The replicated engine: drives the pure consensus core with real time, LMDB and TCP. One loop handles each
// Ready in the core's order — make its entries and hard state durable in the consensus write-ahead log (one
// O_DSYNC append), apply its committed entries in memory with the log's writes (LMDB commits them behind, as a
// standalone node's store does), then send messages, then advance. Followers forward writes to the leader and
// answer from their own apply of the entry, so a client's next read on the same node sees its write.
// A Ready's durable write is in ready-writer.ts (the store writes it makes in persist.ts), a client's write placed
// with the leader and a read's read index in requests.ts (the leader's batching in proposals.ts, followers' writes in
// forwards.ts), what peers' messages do on arrival in peer-messages.ts, snapshot catch-up in snapshot-transfer.ts
// (its install on a follower in install-gate.ts), the catch-up after a leaderless spell in leader-contact.ts, a
// graceful stop's leadership transfer in hand-over.ts.
import type { StartupStep } from '../startup-trace.js';
import type { Logger } from 'pino';
import { ZkError } from '../errors.js';
import { syncWindowMs, type Config } from '../config.js';
import type { Engine, EngineHooks, Mode } from '../engine.js';
import type { Committed } from '../pipeline.js';
import type { ApplyResult, Txn } from '../tree/types.js';
import type { Store } from '../../storage/store.js';
import { RaftLog } from '../../storage/raft-log.js';
import { RawNode, historyText, type Ready, type Role } from './core/index.js';
import { PeerTransport } from './transport.js';
import { coreConfig, transportOptions, votersAndLearners } from './engine-config.js';
import { earlySends } from './early-sends.js';
import { EmptyStart } from './empty-start.js';
import { leaderRefusal, RefusalReport, startLogFromTree } from './start-data.js';
import { maybeCompact } from './persist.js';
import { ReadyWriter } from './ready-writer.js';
import { discardInterruptedInstall, removeSnapshotsInTransit, SnapshotReceiver } from './snapshot-transfer.js';
import { InstallGate } from './install-gate.js';
import { ZkWaiters } from './waiters.js';
import { LeaderContact } from './leader-contact.js';
import { handOverLeadership } from './hand-over.js';
import { advanceElectionAtStart } from './election-advance.js';
import { PeerMessages, type PeerMsg } from './peer-messages.js';
import { Requests } from './requests.js';

/** How long after start a member may still move its election clock on (election-advance.ts; etcd waits up to 5 s). */
const ELECTION_ADVANCE_WINDOW_MS = 5000;
/** A graceful stop waits this long at most for its last answers to forwards, then as long again for its goodbyes to leave. */
const FAREWELL_MS = 1000;

export class RaftEngine implements Engine {
  private raftLog!: RaftLog;
  private rawnode!: RawNode;
  private readonly transport: PeerTransport;
  private readonly waiters = new ZkWaiters(() => this.rawnode?.status().commit ?? 0);
  private readonly receiver: SnapshotReceiver;
  private readonly messages: PeerMessages;
  private readonly requests: Requests;
  private role: Role = 'follower';
  private leaderId = 0;
  private readonly contact: LeaderContact;
  private busy = false;
  private stopping = false;
  /** A member that started with an empty consensus log, until it has caught up (core/amnesia.ts). */
  private readonly emptyStart: EmptyStart;
  private readonly refusals: RefusalReport;
  private halted = false;
  private readonly gate: InstallGate<PeerMsg>;
  private ticker?: NodeJS.Timeout;
  private stopAdvance: () => void = () => {};
  /** Leader: when each peer last acknowledged an append or heartbeat (ZooKeeper's syncLimit measures this). */
  private readonly lastAckAt = new Map<number, number>();
  appliedZxid: number;
  private readonly writer: ReadyWriter;
  /** Elections this node has seen start (for metrics). */
  elections = 0;
  term = 0;

  constructor(
    private readonly store: Store,
    private readonly cfg: Config,
    private readonly hooks: EngineHooks,
    private readonly log: Logger,
  ) {
    this.appliedZxid = store.lastZxid();
    this.writer = new ReadyWriter(store, cfg.dataDir, (e) => this.hooks.onFatal(e));
    this.transport = new PeerTransport(transportOptions(cfg, log));
    this.receiver = new SnapshotReceiver(cfg.dataDir);
    this.emptyStart = new EmptyStart(cfg.dataDir, log);
    this.refusals = new RefusalReport(log);
    this.gate = new InstallGate<PeerMsg>({
      store,
      raftLog: () => this.raftLog,
      receiver: this.receiver,
      log,
      applied: () => this.appliedZxid,
      idle: () => this.idle(),
      installed: (index) => this.installed(index),
      fatal: (e) => this.hooks.onFatal(e),
      redeliver: (from, m) => this.onPeer(from, m),
    });
    this.requests = new Requests(cfg, this.transport, this.waiters, {
      stopping: () => this.stopping,
      leading: () => this.role === 'leader',
      leaderId: () => this.leaderId,
      rawnode: () => this.rawnode,
      kick: () => this.kick(),
      admitSessionEpoch: (session, epoch) => hooks.admitSessionEpoch?.(session, epoch),
    });
    this.messages = new PeerMessages({
      store,
      cfg,
      transport: this.transport,
      log,
      hooks,
      gate: this.gate,
      receiver: this.receiver,
      forwards: this.requests.forwards,
      proposals: this.requests.proposals,
      rawnode: () => this.rawnode,
      leading: () => this.role === 'leader',
      leaderId: () => this.leaderId,
      term: () => this.term,
      termOf: (i) => this.raftLog.term(i),
      reportSnapshot: (to, delivered) => this.rawnode.reportSnapshot(to, delivered),
      applied: () => this.appliedZxid,
      acked: (from) => this.lastAckAt.set(from, performance.now()),
      kick: () => this.kick(),
    });
    this.contact = new LeaderContact(
      () => syncWindowMs(this.cfg),
      async () => {
        const index = await this.readBarrier('catch-up with the leader');
        await this.waitForZxid(index, this.cfg.proposalTimeoutMs);
        return index;
      },
      log,
    );
  }

  get mode(): Mode {
    if (this.role === 'leader') return 'leader';
    if (this.leaderId === 0 || this.gate.installing) return 'looking';
    return this.role === 'learner' ? 'observer' : 'follower';
  }

  get isWriter(): boolean {
    return this.role === 'leader';
  }

  get pending(): number {
    return this.requests.pending;
  }

  get pendingReads(): number {
    return this.waiters.pendingReads;
  }

  get leader(): number {
    return this.leaderId;
  }

  get catchingUp(): boolean {
    return this.contact.catchingUp;
  }

  get leaderlessMs(): number {
    return this.contact.leaderlessMs;
  }

  /** ZooKeeper's synced: `id` acknowledged this leader within syncLimit × tickTime. */
  synced(id: number): boolean {
    return this.role === 'leader' && performance.now() - (this.lastAckAt.get(id) ?? -Infinity) <= syncWindowMs(this.cfg);
  }

  /** The consensus write-ahead log (its appends are timed for metrics). */
  get wal(): ReadyWriter['wal'] {
    return this.writer.wal;
  }

  get peers(): PeerTransport {
    return this.transport;
  }

  status() {
    return this.rawnode.status();
  }

  async start(step: StartupStep = () => {}): Promise<void> {
    step('reading the consensus log');
    // recover() read it already (a node starts with it); read here only for an engine started without it.
    if (!this.raftLog) this.raftLog = new RaftLog(this.store, votersAndLearners(this.cfg));
    this.appliedZxid = this.store.lastZxid();
    if (this.raftLog.lastIndex() === 0 && this.appliedZxid > 0) await startLogFromTree(this.store, this.raftLog, this.appliedZxid, this.log);
    this.writer.startFrom(this.raftLog.hardState());
    const voters = this.raftLog.initialState().confState.voters;
    this.emptyStart.open(voters.length > 1 && voters.includes(this.cfg.myid as number), this.raftLog.lastIndex() === 0);
    this.rawnode = this.makeRawNode();
    this.transport.on('message', (from, msg) => this.onPeer(from, msg as PeerMsg));
    step(`binding the peer port ${this.transport.listenAddress}`);
    await this.transport.start();
    this.ticker = setInterval(() => this.tick(), this.cfg.raftTickMs);
    this.stopAdvance = advanceElectionAtStart({
      transport: this.transport,
      myid: this.cfg.myid as number,
      voters: this.raftLog.initialState().confState.voters,
      electionTicks: this.cfg.electionTicks,
      leaderKnown: () => this.leaderId !== 0,
      tick: () => this.rawnode.tick(),
      campaign: () => this.rawnode.campaign(),
      kick: () => this.kick(),
      windowMs: ELECTION_ADVANCE_WINDOW_MS,
    });
    this.kick();
  }

  /** The core over the durable log, as at a restart: applied = what the tree holds. */
  private makeRawNode(): RawNode {
    // After a snapshot install the old core knows how far it had got; at start, the mark does.
    const catchUp = this.rawnode ? this.rawnode.catchUp() : this.emptyStart.resumed;
    return new RawNode(coreConfig(this.cfg, this.raftLog.initialState().confState, this.appliedZxid, catchUp), this.raftLog);
  }

  private tick(): void {
    if (this.gate.installing) return;
    this.startCatchUp();
    this.rawnode.tick();
    this.refusals.check(this.rawnode.foreignLeader());
    this.messages.sendTouches();
    this.kick();
  }

  /**
   * Before the tree is opened: puts what the consensus write-ahead log holds beyond LMDB back into the log (the
   * entries and hard states of Readies whose write-behind group never committed; the core applies the committed
   * ones again, from the applied index LMDB holds), then recovers from a snapshot install that was cut short.
   */
  async recover(step: StartupStep = () => {}): Promise<void> {
    step('replaying the consensus write-ahead log');
    this.raftLog = new RaftLog(this.store, votersAndLearners(this.cfg));
    const records = await this.writer.replay(this.raftLog);
    if (records > 0) this.log.info({ records, lastIndex: this.raftLog.lastIndex(), hard: this.raftLog.hardState() }, 'consensus write-ahead log replayed into the log');
    step('recovering from an interrupted snapshot install, if any');
    removeSnapshotsInTransit(this.cfg.dataDir, this.log);
    if (!this.store.installInterrupted) return;
    await discardInterruptedInstall(this.store, this.raftLog, this.log);
    this.appliedZxid = 0;
  }

  // ---- requests ----

  submit(txn: Txn, epoch?: number): Promise<{ zxid: number; result: ApplyResult }> {
    return this.requests.submit(txn, epoch);
  }

  waitForZxid(zxid: number, timeoutMs: number): Promise<void> {
    return this.waiters.waitApplied(zxid, this.appliedZxid, timeoutMs);
  }

  /** The node did not run for `ms`: past an election timeout, what it knows of the leader and the log may be stale. */
  nodeStalled(ms: number): void {
    if (ms < Math.min(this.cfg.electionTicks * this.cfg.raftTickMs, syncWindowMs(this.cfg))) return;
    this.contact.stalled(ms);
    setImmediate(() => this.startCatchUp());
  }

  private startCatchUp(): void {
    if (this.leaderId !== 0 && !this.gate.installing && !this.stopping) this.contact.start();
  }

  readBarrier(purpose?: string): Promise<number> {
    return this.requests.readBarrier(purpose);
  }

  // ---- peer messages ----

  /** From the transport, or held back during an install and handed back (install-gate.ts). */
  private onPeer(from: number, msg: PeerMsg): void {
    this.messages.take(from, msg);
  }

  /** A snapshot became the tree and the log (install-gate.ts): the core starts afresh over them, as at a restart. */
  private installed(index: number): void {
    this.appliedZxid = index;
    this.waiters.onInstalled(index);
    // Unsent messages and unpersisted state of the old core are dropped, which Raft allows.
    this.rawnode = this.makeRawNode();
    this.role = 'follower';
    // The snapshot came from a leader just now: the clock of leaderless time starts here, not at the last append.
    this.setLeader(0);
    this.hooks.onStateReplaced?.();
  }

  // ---- the Ready loop ----

  /** Resolves once no Ready is being handled (polled: drive() runs at most one at a time). */
  private async idle(): Promise<void> {
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
  }

  private kick(): void {
    if (this.busy || this.gate.installing || this.halted) return;
    this.busy = true;
    setImmediate(() => void this.drive());
  }

  private async drive(): Promise<void> {
    try {
      while (!this.gate.installing && this.rawnode.hasReady()) {
        const rd = this.rawnode.ready();
        await this.handle(rd);
        this.rawnode.advance(rd);
      }
    } catch (e) {
      this.hooks.onFatal(e);
      return;
    } finally {
      this.busy = false;
    }
    if (this.rawnode.hasReady()) this.kick();
  }

  private async handle(rd: Ready): Promise<void> {
    if (rd.softState) this.roleChanged(rd.softState.role, rd.softState.leaderId);
    if (rd.hardState) this.term = rd.hardState.term;
    const done: Committed[] = [];
    const terms: { index: number; term: number }[] = [];
    const early = earlySends(this.role, rd, this.raftLog.hardState());
    for (const m of early) this.messages.send(m);
    this.emptyStart.beforeWrite(this.rawnode);
    const applied = await this.writer.write(this.raftLog, rd, this.appliedZxid, terms, done);
    this.appliedZxid = applied;
    if (done.length > 0) this.hooks.onCommitted(done);
    this.waiters.onApplied(terms, done, applied);
    for (const rs of rd.readStates) this.waiters.readReady(Buffer.from(rs.ctx).toString('hex'), rs.index);
    this.emptyStart.afterWrite(this.rawnode);
    for (const m of rd.messages) if (!early.includes(m)) this.messages.send(m);
    await maybeCompact(this.store, this.raftLog, this.cfg, this.appliedZxid, this.log);
  }

  /** Why this member refuses the leader of the current term (its data differs, core/follower.ts); null otherwise. */
  leaderRefusal(): string | null {
    return leaderRefusal(this.rawnode.foreignLeader());
  }

  /** The history of this member's consensus log as operators see it (core/history.ts); null before its first leader. */
  history(): string | null {
    const h = this.rawnode.history();
    return h === 0 ? null : historyText(h);
  }

  /** How this member limits its vote while it catches up after starting with an empty log; null otherwise. */
  voteLimit(): string | null {
    return this.emptyStart.voteLimit(this.rawnode);
  }

  private roleChanged(role: Role, leaderId: number): void {
    const wasWriter = this.role === 'leader';
    if (role === 'candidate' || role === 'precandidate') {
      if (this.role !== 'candidate' && this.role !== 'precandidate') this.elections++;
    }
    if (role !== this.role || leaderId !== this.leaderId) {
      // Operators know a learner as an observer (the server.N line says so).
      this.log.info({ role: role === 'learner' ? 'observer' : role, leader: leaderId || null, term: this.term }, 'consensus role changed');
    }
    this.role = role;
    this.setLeader(leaderId);
    // A new leadership starts with no follower synced, not with what the last one heard (ZooKeeper's syncLimit).
    if (role === 'leader' && !wasWriter) this.lastAckAt.clear();
    if (wasWriter !== (role === 'leader')) this.hooks.onWriterChange?.(role === 'leader');
  }

  private setLeader(leaderId: number): void {
    // At once rather than at the next tick: reads wait for it. (This runs inside a Ready's handling; the read index
    // goes out with the next one.)
    if (this.contact.leaderChanged(this.leaderId, leaderId)) setImmediate(() => this.startCatchUp());
    this.leaderId = leaderId;
  }

  async drain(): Promise<void> {
    this.stopping = true;
    await this.handOver();
    await this.waiters.idle(this.cfg.proposalTimeoutMs);
  }

  /** A leader's graceful stop hands its leadership over first (hand-over.ts). */
  private async handOver(): Promise<void> {
    if (this.role !== 'leader') return;
    await handOverLeadership({
      rawnode: this.rawnode,
      myid: this.cfg.myid,
      electionMs: this.cfg.electionTicks * this.cfg.raftTickMs,
      log: this.log,
      leading: () => this.role === 'leader',
      leaderId: () => this.leaderId,
      term: () => this.term,
      kick: () => this.kick(),
    });
  }

  async stop(): Promise<void> {
    await this.drain();
    if (this.ticker) clearInterval(this.ticker);
    this.stopAdvance();
    await this.idle();
    await this.messages.farewell(FAREWELL_MS);
    this.waiters.failAll(new ZkError('ConnectionLoss', 'server is shutting down'));
    this.requests.forwards.failAll();
    await this.transport.stop();
    // No Ready is handled after this one, so none appends to the log once it is retired.
    this.halted = true;
    await this.idle();
    await this.writer.retire();
  }
}
