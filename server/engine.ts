// What a node commits through: the standalone write loop or the replicated consensus driver. The node,
// routes and watches see only this interface, so the same prepare → apply path serves both.
import type { StartupStep } from './startup-trace.js';
import type { ApplyResult, Txn } from './tree/types.js';
import type { Committed } from './pipeline.js';

export type Mode = 'standalone' | 'leader' | 'follower' | 'observer' | 'looking';

export interface Engine {
  readonly mode: Mode;
  /** Highest zxid applied here (what ZK-Zxid reports). */
  readonly appliedZxid: number;
  /**
   * How long this node has known no leader, in ms: 0 while it knows one (and always for a standalone node), Infinity
   * until it first knows one after starting. A member notices a lost leader only after electionTicks without it.
   */
  readonly leaderlessMs: number;
  /** True while this member, back from a leaderless spell longer than syncLimit × tickTime (or a start), catches up with its leader. */
  readonly catchingUp: boolean;
  /** Told that the node did not run for `ms` (server/awake-clock.ts): a member may then have to catch up before it serves reads. */
  nodeStalled?(ms: number): void;
  /** Writes waiting to be committed here. */
  readonly pending: number;
  /** Why this member refuses the leader of its term (its data is not the ensemble's); null otherwise. */
  leaderRefusal?(): string | null;
  /** The write-ahead log every write goes through before LMDB holds it (its durable writes are timed for metrics). */
  readonly wal?: { flushObserver?: (seconds: number) => void };
  /** True where sessions are expired and containers swept: a standalone node or the leader. */
  readonly isWriter: boolean;
  /** Repairs what a crash can leave half-done, before the tree is read; `step` names it for the start-up trace. */
  recover?(step?: StartupStep): Promise<void>;
  /** `step` names each step as it begins, for the start-up trace. */
  start(step?: StartupStep): Promise<void>;
  /**
   * Commits `txn` (through the leader when replicated) and resolves with this node's apply result. `epoch`: the
   * request's ZK-Session-Epoch, checked where the write is placed in the log (server/session-epochs.ts).
   */
  submit(txn: Txn, epoch?: number): Promise<{ zxid: number; result: ApplyResult }>;
  waitForZxid(zxid: number, timeoutMs: number): Promise<void>;
  /** A zxid that a linearizable read must wait for (ReadIndex); standalone: what is applied. `purpose` names it in errors. */
  readBarrier(purpose?: string): Promise<number>;
  /** Stop taking writes; resolves once every accepted write is answered. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface EngineHooks {
  /** Called in zxid order, after the batch is durable, before its writers are answered. */
  onCommitted(batch: Committed[]): void;
  onFatal(e: unknown): void;
  /** Called when this node starts or stops being the one that expires sessions. */
  onWriterChange?(isWriter: boolean): void;
  /** Sessions clients touched here since the last call (followers forward them to the leader). */
  takeTouchedSessions?(): string[];
  /** The whole state was replaced (a snapshot from the leader): reload what is cached from it. */
  onStateReplaced?(): void;
  /** The leader applies touches forwarded by followers. */
  touchSessions?(ids: string[]): void;
  /** Where writes are placed in the log: throws when `session` has moved past `epoch` (server/session-epochs.ts). */
  admitSessionEpoch?(session: string, epoch: number | undefined): void;
}
