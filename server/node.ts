// A zkgate node: owns the store, the write pipeline, sessions and sweeps (server/housekeeping.ts), and answers reads
// with ACL checks. Routes talk only to this class.
import type { StartupStep } from './startup-trace.js';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AuditLog } from './audit.js';
import type { Logger } from 'pino';
import { ZkError } from './errors.js';
import { negotiateTimeout, syncWindowMs, type Config } from './config.js';
import { zookeeperConfigText } from './ensemble-config.js';
import { WritePipeline, type Committed } from './pipeline.js';
import type { Engine, EngineHooks, Mode } from './engine.js';
import { SessionTracker } from './sessions/tracker.js';
import { AwakeClock, warnOfStall } from './awake-clock.js';
import { listChildren, takeNames, type ChildrenPage } from './children-listing.js';
import { Housekeeper } from './housekeeping.js';
import { initTree, refuseMemberLog, retireWal, walDir } from './data-dir.js';
import { diskFullNote, freeSpace } from './disk-space.js';
import { Store } from '../storage/store.js';
import { Wal } from '../storage/wal.js';
import { aclAllows, requirePerm } from './tree/acl.js';
import { prepareMulti, prepareOp, prepareSetAcl, type RequestContext } from './tree/prepare.js';
import { statOf } from './tree/stat.js';
import { validatePath } from './tree/paths.js';
import { PERM_BITS, type Acl, type ApplyResult, type MultiOp, type NodeRecord, type Stat, type TxnValue, type Txn } from './tree/types.js';
import { SessionEpochs } from './session-epochs.js';

export interface NodeStats {
  startedAt: number;
  requests: number;
  latencyMinMs: number;
  latencyMaxMs: number;
  latencyTotalMs: number;
}

export type { Mode } from './engine.js';

export class ZkNode extends EventEmitter {
  readonly store: Store;
  /** Time without the node's stalls, for client silence (sessions, WebSocket pings); started with the housekeeping. */
  readonly awake = new AwakeClock((ms) => {
    this.warnStall(ms);
    this.engine.nodeStalled?.(ms);
  });
  private readonly warnStall = warnOfStall(() => this.log);
  readonly sessions = new SessionTracker(() => this.awake.now());
  readonly engine: Engine;
  private stopped = false;
  private readonly housekeeper = new Housekeeper(this, (txn) => this.submit(txn));
  /** When the certificates in use expire (Unix seconds), the client port's and the peers', for the metrics. */
  readonly tlsNotAfter: { client?: number; peer?: number } = {};
  /** Who changed what (audit.enable); set by startServer, absent when off. */
  audit?: AuditLog;
  /** An ensemble member (see responseZxid). */
  private readonly replicated: boolean;
  /** Where each session's requests were last sent from (ZK-Session-Epoch), while this node places writes in the log. */
  private readonly sessionEpochs: SessionEpochs;
  /** Session creates submitted and not yet settled, counted against maxSessions with the live ones. */
  private sessionsCreating = 0;
  readonly stats: NodeStats = { startedAt: Date.now(), requests: 0, latencyMinMs: Infinity, latencyMaxMs: 0, latencyTotalMs: 0 };

  constructor(
    readonly cfg: Config,
    readonly log: Logger,
    engineFactory?: (store: Store, hooks: EngineHooks) => Engine,
  ) {
    super();
    this.setMaxListeners(0);
    this.replicated = engineFactory !== undefined;
    this.sessionEpochs = new SessionEpochs(cfg.maxSessions);
    // Both kinds of node log their writes before LMDB holds them: a standalone node in wal/, a member in raft-wal/.
    this.store = Store.open({ dataDir: cfg.dataDir, walBacked: true });
    const hooks = {
      onCommitted: (batch: Committed[]) => this.committed(batch),
      onFatal: (e: unknown) => {
        const room = freeSpace(cfg.dataDir);
        this.log.fatal({ err: e, ...room }, `storage write failed${diskFullNote(cfg.dataDir, room)}; exiting so a restart recovers from the last durable state`);
        process.exit(70);
      },
      onWriterChange: (isWriter: boolean) => {
        // A new leader gives every session a full timeout from now, as ZooKeeper's new leader does.
        if (isWriter) this.sessions.renewAll();
      },
      takeTouchedSessions: () => this.sessions.takeTouched(),
      onStateReplaced: () => {
        for (const id of this.sessions.ids()) this.sessions.remove(id);
        for (const s of this.store.listSessions()) this.sessions.add(s.id, s.timeoutMs);
        this.emit('stateReplaced');
      },
      touchSessions: (ids: string[]) => {
        for (const id of ids) this.sessions.touch(id);
      },
      admitSessionEpoch: (session: string, epoch: number | undefined) => this.sessionEpochs.admit(session, epoch),
    };
    this.engine = engineFactory
      ? engineFactory(this.store, hooks)
      : new WritePipeline(this.store, Wal.open<Txn>(walDir(cfg.dataDir)), { maxPendingWrites: cfg.maxPendingWrites, maxBatchTxns: cfg.maxBatchTxns, maxBatchBytes: cfg.maxBatchBytes }, hooks);
  }

  get mode(): Mode {
    return this.engine.mode;
  }

  /** See Engine.leaderlessMs. */
  get leaderlessMs(): number {
    return this.engine.leaderlessMs;
  }

  /** A member without a leader for longer than syncLimit × tickTime, not asked to serve reads then (see readRefusal). */
  get cutOff(): boolean {
    return !this.cfg.readOnlyMode && this.engine.leaderlessMs > syncWindowMs(this.cfg);
  }

  get appliedZxid(): number {
    return this.engine.appliedZxid;
  }

  /**
   * The zxid an answer reports (ZK-Zxid), which a client sends back as ZK-Min-Zxid, maybe to another member: at least
   * that of any state the answer read. An ensemble member's LMDB makes a transaction readable as it commits, a
   * moment before the engine counts it applied, so a read can show data newer than appliedZxid; the store's last
   * zxid, read after the data, covers it. A standalone node applies and counts in one synchronous step.
   */
  responseZxid(): number {
    const applied = this.engine.appliedZxid;
    return this.replicated ? Math.max(applied, this.store.lastZxid()) : applied;
  }

  get pendingWrites(): number {
    return this.engine.pending;
  }

  async start(step: StartupStep = () => {}): Promise<void> {
    if (this.engine instanceof WritePipeline) refuseMemberLog(this.cfg.dataDir);
    else {
      step('applying a standalone write-ahead log left in the data dir, if any');
      await retireWal(this.store, this.cfg.dataDir, this.log);
    }
    await this.engine.recover?.(step);
    step('reading the tree');
    if (!this.store.getNode('/')) await initTree(this.store);
    if (this.cfg.servers.length > 0) this.store.showConfig(Buffer.from(zookeeperConfigText(this.cfg.servers)));
    await this.engine.start(step);
    step('restoring sessions');
    for (const s of this.store.listSessions()) this.sessions.add(s.id, s.timeoutMs);
    this.housekeeper.start();
    this.log.info({ dataDir: this.cfg.dataDir, zxid: this.appliedZxid, sessions: this.sessions.size }, 'store opened');
  }

  private committed(batch: Committed[]): void {
    for (const c of batch) {
      // Every replica learns of sessions from the log, so any node can accept requests in them.
      if (c.txn.type === 'createSession' && c.result.outcome.ok) this.sessions.add(c.txn.sessionId, c.txn.timeoutMs);
      for (const s of c.result.endedSessions ?? []) {
        this.sessions.remove(s.id);
        this.sessionEpochs.forget(s.id);
        this.emit('sessionEnded', s.id, s.reason);
      }
    }
    this.emit('committed', batch);
  }

  // ---- sessions ----

  /**
   * A session a follower or observer does not know may be one the leader committed a moment ago that this node has
   * not applied yet: wait until it has applied everything committed before now (ReadIndex), so that the check
   * that follows answers 410 only for a session the ensemble has closed, expired or never had. The writer
   * (standalone or leader) has applied every committed session already. Undefined when there is nothing to
   * wait for, so that the common case costs no promise.
   */
  awaitSession(id: string): Promise<unknown> | undefined {
    if (!id || this.engine.isWriter || this.sessions.has(id)) return undefined;
    return this.linearize('session check');
  }

  /** 410 for a request in a closed, expired or unknown session. */
  checkSession(id: string): void {
    if (id && !this.sessions.has(id)) throw new ZkError('SessionExpired', `session ${id} is closed, expired or unknown`);
  }

  async createSession(requestedTimeoutMs: number | undefined): Promise<{ sessionId: string; timeoutMs: number }> {
    // Creates in flight count too: checked against committed sessions only, 4,000 concurrent creates made 1,605 of 1,000.
    if (this.sessions.size + this.sessionsCreating >= this.cfg.maxSessions) throw new ZkError('ConnectionLoss', `too many sessions (${this.cfg.maxSessions})`, { applied: false });
    this.sessionsCreating++;
    try {
      return await this.newSession(requestedTimeoutMs);
    } finally {
      this.sessionsCreating--;
    }
  }

  private async newSession(requestedTimeoutMs: number | undefined): Promise<{ sessionId: string; timeoutMs: number }> {
    const timeoutMs = negotiateTimeout(this.cfg, requestedTimeoutMs);
    let sessionId: string;
    do {
      // ZooKeeper's layout: server id in the top byte, the rest unguessable.
      const b = randomBytes(8);
      b[0] = this.cfg.myid ?? 0;
      sessionId = '0x' + b.toString('hex').replace(/^0+(?=.)/, '');
    } while (this.sessions.has(sessionId) || this.store.getSession(sessionId));
    const { result } = await this.submit({ type: 'createSession', sessionId, timeoutMs, time: Date.now() });
    const value = this.unwrap(result);
    if (value.kind !== 'session') throw new Error('createSession returned ' + value.kind);
    return { sessionId, timeoutMs };
  }

  /**
   * Only the leader expires sessions, so a touch on a member that knows no leader reaches nobody: answering it as a
   * success would tell a client on a cut-off minority that its session lives while the majority expires it and
   * deletes its ephemerals. It is refused instead, so the client tries another server.
   */
  requireSessionKeeper(): void {
    if (this.engine.mode === 'looking') {
      throw new ZkError('ConnectionLoss', 'this node knows no leader (no quorum?), so it cannot keep a session alive; try another server');
    }
  }

  async keepalive(id: string): Promise<{ sessionId: string; timeoutMs: number }> {
    this.requireSessionKeeper();
    await this.awaitSession(id);
    if (!this.sessions.touch(id)) throw new ZkError('SessionExpired', `session ${id} is closed, expired or unknown`);
    return { sessionId: id, timeoutMs: this.sessions.timeoutOf(id) as number };
  }

  /** Its ephemerals' paths within jute.maxbuffer bytes, as a listing (children-listing.ts); `ephemeralsTruncated` past it. */
  async getSession(id: string): Promise<{ sessionId: string; timeoutMs: number; ephemerals: string[]; ephemeralsTruncated?: true }> {
    await this.awaitSession(id);
    this.requireCurrentTree();
    const s = this.store.getSession(id);
    if (!s || !this.sessions.has(id)) throw new ZkError('SessionExpired', `session ${id} is closed, expired or unknown`);
    const e = takeNames((limit, after) => this.store.sessionEphemerals(id, limit, after), this.cfg.juteMaxBuffer);
    return e.more ? { sessionId: id, timeoutMs: s.timeoutMs, ephemerals: e.names, ephemeralsTruncated: true } : { sessionId: id, timeoutMs: s.timeoutMs, ephemerals: e.names };
  }

  async closeSession(id: string, reason: 'closed' | 'expired' = 'closed'): Promise<void> {
    await this.awaitSession(id);
    this.checkSession(id);
    this.sessions.markClosing(id);
    const ephemerals = this.audit ? this.store.sessionEphemerals(id) : [];
    let result: ApplyResult;
    try {
      ({ result } = await this.submit({ type: 'closeSession', sessionId: id, reason }));
    } catch (e) {
      // Not committed (or not known to be): the session stays usable until a close does commit.
      if (this.store.getSession(id)) this.sessions.unmarkClosing(id);
      this.audit?.sessionEphemerals(id, ephemerals, 'failure');
      throw e;
    }
    this.unwrap(result);
    this.audit?.sessionEphemerals(id, ephemerals, 'success');
  }

  // ---- writes ----

  private submit(txn: Txn, epoch?: number): Promise<{ zxid: number; result: ApplyResult }> {
    if (this.stopped) return Promise.reject(new ZkError('ConnectionLoss', 'server is shutting down', { applied: false }));
    return this.engine.submit(txn, epoch);
  }

  private unwrap(result: ApplyResult): TxnValue {
    if (!result.outcome.ok) throw result.outcome.error;
    return result.outcome.value;
  }

  /** create / set / delete: prepare, commit durably, answer. */
  async write(op: MultiOp, req: RequestContext): Promise<{ zxid: number; value: TxnValue }> {
    try {
      this.checkSession(req.session);
      const { zxid, result } = await this.submit(prepareOp(op, req, Date.now()), req.epoch);
      const value = this.unwrap(result);
      this.audit?.op(op, req, 'success', value);
      return { zxid, value };
    } catch (e) {
      this.audit?.op(op, req, 'failure');
      throw e;
    }
  }

  /** `acl` in the answer: the list the transaction set (after `auth` ids are filled in), not a later read of the node. */
  async setAcl(path: string, acl: Acl[], aversion: number, req: RequestContext): Promise<{ zxid: number; value: TxnValue; acl: Acl[] }> {
    try {
      this.checkSession(req.session);
      const txn = prepareSetAcl(path, acl, aversion, req, Date.now());
      const { zxid, result } = await this.submit(txn, req.epoch);
      const value = this.unwrap(result);
      this.audit?.setAcl(path, acl, req, 'success');
      return { zxid, value, acl: txn.type === 'setAcl' ? txn.acl : acl };
    } catch (e) {
      this.audit?.setAcl(path, acl, req, 'failure');
      throw e;
    }
  }

  /** Returns the per-op results; a failed multi carries ZooKeeper's per-op error results. */
  async multi(ops: (MultiOp | ZkError)[], req: RequestContext): Promise<{ ok: true; value: TxnValue } | { ok: false; error: ZkError; results: unknown[] }> {
    const audited = this.audit ? ops.filter((o): o is MultiOp => !(o instanceof ZkError)) : [];
    let ok = false;
    try {
      this.checkSession(req.session);
      const prepared = prepareMulti(ops, req, Date.now());
      if ('error' in prepared) return { ok: false, error: prepared.error, results: prepared.results };
      const { result } = await this.submit(prepared.txn, req.epoch);
      const o = result.outcome;
      ok = o.ok;
      if (o.ok) return { ok: true, value: o.value };
      if (o.results) return { ok: false, error: o.error, results: o.results };
      throw o.error;
    } finally {
      this.audit?.multi(audited, req, ok ? 'success' : 'failure');
    }
  }

  /** `?consistency=linearizable` and sync: wait until this node has applied everything committed before now. */
  async linearize(purpose?: string): Promise<number> {
    const z = await this.engine.readBarrier(purpose);
    await this.engine.waitForZxid(z, this.cfg.minZxidWaitMs);
    return z;
  }

  waitForZxid(zxid: number, timeoutMs: number): Promise<void> {
    return this.engine.waitForZxid(zxid, timeoutMs);
  }

  // ---- reads (local committed state; ZooKeeper's sequential consistency) ----

  /**
   * Why this node serves no reads just now, or undefined when it serves them.
   *
   * A follower installing the leader's snapshot has a tree that is neither its old state nor the new one (wiped, then
   * refilled in batches): a read would show nodes missing that exist on both sides of the install, older than what
   * the client may have read here before. ZooKeeper's followers serve no client while they sync.
   *
   * A member that has known no leader for longer than syncLimit × tickTime (or none since it started) may hold a
   * tree that the majority has long moved past. ZooKeeper promises that a client's view is up to date within a time
   * bound or the client detects the outage, and its followers drop their clients when the leader is gone that long;
   * these reads are refused likewise, unless readonlymode.enabled asks to go on serving them.
   *
   * When it hears a leader again it serves no reads until it has applied what that leader had committed then: its
   * tree may be hours old, and a read there would go back in time for any client that has read elsewhere.
   *
   * All are refused as retryable, so a client retries or goes to another server.
   */
  readRefusal(): string | undefined {
    // Observed first: after a stall the requests that waited in the sockets may be read before any timer has run.
    this.awake.now();
    if (this.store.treeIncomplete) {
      return 'this node is installing a snapshot of the leader\'s state (it had fallen behind) and serves no reads until that ends; retry, or use another server';
    }
    // Before the cut-off: a member refusing its leader hears it (and so is not cut off), and its tree is not the
    // ensemble's at all, whatever readonlymode.enabled says.
    const refused = this.engine.leaderRefusal?.() ?? null;
    if (refused !== null) {
      return `this node's data is not the ensemble's, and it serves no reads: ${refused}; retry, or use another server`;
    }
    if (this.cutOff) {
      const leaderless = this.engine.leaderlessMs;
      if (leaderless === Infinity) {
        return 'this node has known no leader since it started (an election under way, or no quorum yet), so its tree may be out of date; it serves no reads until it joins a quorum: retry, or use another server';
      }
      return `this node has known no leader for ${Math.round(leaderless)} ms (no quorum?), longer than syncLimit × tickTime (${syncWindowMs(this.cfg)} ms), so its tree may be out of date; it serves no reads until it rejoins a quorum: retry, or use another server`;
    }
    if (this.engine.catchingUp && !this.cfg.readOnlyMode) {
      return 'this node has just rejoined a quorum after being cut off from it (or after starting, or after it did not run for a while), and serves no reads until it has caught up with the leader; retry, or use another server';
    }
    return undefined;
  }

  requireCurrentTree(): void {
    const why = this.readRefusal();
    if (why !== undefined) throw new ZkError('ConnectionLoss', why);
  }

  private readable(path: string, req: RequestContext): NodeRecord {
    this.requireCurrentTree();
    validatePath(path);
    const n = this.store.getNode(path);
    if (!n) throw new ZkError('NoNode', undefined, { path });
    requirePerm(n.acl, PERM_BITS.r, req.auth, path);
    return n;
  }

  /** The ACL comes along for the fast read path, which caches only answers anyone may read. */
  getData(path: string, req: RequestContext): { data: Uint8Array; stat: Stat; acl: Acl[] } {
    const n = this.readable(path, req);
    return { data: n.data, stat: statOf(n), acl: n.acl };
  }

  exists(path: string, req: RequestContext): Stat {
    return statOf(this.readable(path, req));
  }

  /** Bounded as an answer is (children-listing.ts), or a page; `unbounded` for a recipe's own directory. */
  getChildren(path: string, req: RequestContext, o: { page?: ChildrenPage; unbounded?: true } = {}): { children: string[]; stat: Stat; more: boolean } {
    const stat = statOf(this.readable(path, req));
    if (o.unbounded) return { children: this.store.childNames(path), stat, more: false };
    return { ...listChildren(path, (limit, after) => this.store.childNames(path, limit, after), this.cfg.juteMaxBuffer, o.page), stat };
  }

  getAcl(path: string, req: RequestContext): { acl: Acl[]; stat: Stat; canAdmin: boolean } {
    this.requireCurrentTree();
    validatePath(path);
    const n = this.store.getNode(path);
    if (!n) throw new ZkError('NoNode', undefined, { path });
    const canAdmin = aclAllows(n.acl, PERM_BITS.a, req.auth);
    if (!canAdmin && !aclAllows(n.acl, PERM_BITS.r, req.auth)) throw new ZkError('NoAuth', undefined, { path });
    return { acl: n.acl, stat: statOf(n), canAdmin };
  }

  /** Open HTTP keep-alive and WebSocket connections, as the HTTP layer reports them. */
  connectionCount(): number {
    return this.connectionCounter();
  }
  connectionCounter: () => number = () => 0;

  /** Registered watches, as the watch subsystem reports them. */
  watchCount(): number {
    return this.watchCounter();
  }
  watchCounter: () => number = () => 0;

  recordLatency(ms: number): void {
    const s = this.stats;
    s.requests++;
    s.latencyTotalMs += ms;
    if (ms < s.latencyMinMs) s.latencyMinMs = ms;
    if (ms > s.latencyMaxMs) s.latencyMaxMs = ms;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.housekeeper.stop();
    await this.engine.stop();
    await this.store.close();
  }
}
