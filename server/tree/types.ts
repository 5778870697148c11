// The data model shared by prepare, apply and storage: znode records, ACLs, requests, transactions, results.
import type { ZkError, ZkErrorName } from '../errors.js';

export * from '../../storage/records.js';
import type { Acl, AuthId, NodeKind } from '../../storage/records.js';

// Stat and CreateMode are wire shapes: the SDK's definitions are the one copy (the SDK imports nothing from here).
import type { CreateMode, Stat } from '../../client/types.js';
export type { CreateMode, Stat } from '../../client/types.js';

export const CREATE_MODES: readonly CreateMode[] = [
  'PERSISTENT',
  'EPHEMERAL',
  'PERSISTENT_SEQUENTIAL',
  'EPHEMERAL_SEQUENTIAL',
  'CONTAINER',
  'PERSISTENT_WITH_TTL',
  'PERSISTENT_SEQUENTIAL_WITH_TTL',
];

export function modeIsSequential(m: CreateMode): boolean {
  return m === 'PERSISTENT_SEQUENTIAL' || m === 'EPHEMERAL_SEQUENTIAL' || m === 'PERSISTENT_SEQUENTIAL_WITH_TTL';
}

export function modeKind(m: CreateMode): NodeKind {
  switch (m) {
    case 'EPHEMERAL':
    case 'EPHEMERAL_SEQUENTIAL':
      return 'ephemeral';
    case 'CONTAINER':
      return 'container';
    case 'PERSISTENT_WITH_TTL':
    case 'PERSISTENT_SEQUENTIAL_WITH_TTL':
      return 'ttl';
    case 'PERSISTENT':
    case 'PERSISTENT_SEQUENTIAL':
      return 'persistent';
  }
}

// ---- transactions: everything non-deterministic (time, ids, auth) is fixed in them ----

export interface CreateOp {
  type: 'create';
  path: string;
  data: Uint8Array;
  acl: Acl[];
  mode: CreateMode;
  ttlMs: number;
  /** Create missing ancestors as empty persistent nodes (with `acl`). */
  parents: boolean;
}
export interface SetOp {
  type: 'set';
  path: string;
  data: Uint8Array;
  version: number;
}
export interface DeleteOp {
  type: 'delete';
  path: string;
  version: number;
  recursive: boolean;
}
export interface CheckOp {
  type: 'check';
  path: string;
  version: number;
}
export type MultiOp = CreateOp | SetOp | DeleteOp | CheckOp;

/**
 * The first op of a multi that failed validation (it stands at index ops.length - 1, where the txn holds a stand-in
 * that fails on any version of apply; the ops before it are the valid ones) and how many ops the request had. ZooKeeper prepares a multi's ops in order, each checked against the state
 * as it goes, so an earlier op that cannot succeed is the failure it reports; apply does the same with this.
 */
export interface MultiInvalid {
  count: number;
  error: ZkErrorName;
  message: string;
  path?: string;
}

/** Fields every client transaction carries so that apply needs no other input. */
export interface TxnContext {
  time: number;
  auth: AuthId[];
  /** The session the request acts in ('' for none). */
  session: string;
  /**
   * The request's ZK-Session-Epoch, when it had one and a session: apply refuses the write if its session's record
   * holds a higher one, and raises the record to it (server/session-epochs.ts). Absent from older releases' txns.
   */
  sessionEpoch?: number;
}

export type Txn =
  | (TxnContext & CreateOp)
  | (TxnContext & SetOp)
  | (TxnContext & DeleteOp)
  | (TxnContext & { type: 'setAcl'; path: string; acl: Acl[]; aversion: number })
  | (TxnContext & { type: 'multi'; ops: MultiOp[]; invalid?: MultiInvalid })
  | { type: 'createSession'; sessionId: string; timeoutMs: number; time: number }
  | { type: 'closeSession'; sessionId: string; reason: 'closed' | 'expired' }
  | { type: 'reap'; path: string; time: number; maxNeverUsedMs: number };

export type WatchEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';

/** One watch trigger caused by applying a transaction, in the order ZooKeeper would fire them. */
export interface Trigger {
  type: WatchEventType;
  path: string;
  /** ACL of the node the event is about (the parent's for NodeChildrenChanged), as it was when the change applied:
   * delivery needs READ on it (ZooKeeper 3.8.4+), and a deleted node's ACL is gone by then. */
  acl: Acl[];
}

export type MultiResult =
  | { op: 'create'; path: string; stat: Stat }
  | { op: 'set'; stat: Stat }
  | { op: 'delete' }
  | { op: 'check' };

export type MultiErrorResult = { error: string; code: number };

export type TxnValue =
  | { kind: 'create'; path: string; stat: Stat }
  | { kind: 'stat'; stat: Stat }
  | { kind: 'none' }
  | { kind: 'multi'; results: MultiResult[] }
  | { kind: 'session'; sessionId: string; timeoutMs: number };

export type TxnOutcome =
  | { ok: true; value: TxnValue }
  | { ok: false; error: ZkError; results?: MultiErrorResult[] };

export interface ApplyResult {
  outcome: TxnOutcome;
  triggers: Trigger[];
  /** Sessions that ended in this transaction (for the session tracker and bound WebSockets). */
  endedSessions?: { id: string; reason: 'closed' | 'expired' }[];
}
