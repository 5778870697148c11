// The wire shapes of zkgate's REST and WebSocket API (API.md §3–6). The SDK imports nothing from the server; the server
// takes Stat and CreateMode from here, so each shape is written once.

/** ZooKeeper's Stat; zxids are decimal strings (64-bit). */
export interface Stat {
  czxid: string;
  mzxid: string;
  pzxid: string;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}

export type CreateMode =
  | 'PERSISTENT'
  | 'EPHEMERAL'
  | 'PERSISTENT_SEQUENTIAL'
  | 'EPHEMERAL_SEQUENTIAL'
  | 'CONTAINER'
  | 'PERSISTENT_WITH_TTL'
  | 'PERSISTENT_SEQUENTIAL_WITH_TTL';

export interface Acl {
  scheme: string;
  id: string;
  /** A subset of `cdrwa`. */
  perms: string;
}

export type Encoding = 'utf8' | 'base64';

/** Node data as the SDK accepts it: a string is sent as UTF-8. */
export type Data = string | Uint8Array;

export type WatchKind = 'data' | 'exists' | 'children' | 'persistent' | 'persistentRecursive';
export type WatchEventType = 'NodeCreated' | 'NodeDeleted' | 'NodeDataChanged' | 'NodeChildrenChanged';

export interface WatchedEvent {
  type: WatchEventType;
  path: string;
  zxid: string;
}

/** ZooKeeper's KeeperException.Code names as zkgate reports them, plus the client-side ones. */
export const ZK_CODES = {
  SystemError: -1,
  RuntimeInconsistency: -2,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidACL: -114,
  AuthFailed: -115,
  NoWatcher: -121,
} as const;

export type ZkErrorName = keyof typeof ZK_CODES;

export interface ErrorBody {
  error: ZkErrorName;
  code: number;
  message: string;
  path?: string;
  applied?: boolean;
  results?: unknown[];
  /** On a 503 for a write whose ZK-Session-Epoch was below one its session already used: that epoch. */
  sessionEpoch?: number;
}

export interface DataResult {
  path: string;
  data: Uint8Array;
  stat: Stat;
}

export interface ChildrenResult {
  path: string;
  children: string[];
  stat: Stat;
}

export interface CreateOptions {
  mode?: CreateMode;
  /** For the *_WITH_TTL modes. */
  ttlMs?: number;
  /** Create missing ancestors as empty persistent nodes. */
  parents?: boolean;
  acl?: Acl[];
}

export type MultiOp =
  | { op: 'create'; path: string; data?: Data; mode?: CreateMode; ttlMs?: number; acl?: Acl[] }
  | { op: 'set'; path: string; data?: Data; version?: number }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'check'; path: string; version?: number };

export type MultiResult =
  | { op: 'create'; path: string; stat: Stat }
  | { op: 'set'; stat: Stat }
  | { op: 'delete' }
  | { op: 'check' };

export type ReadOp = { op: 'get'; path: string } | { op: 'children'; path: string };
export type ReadResult =
  | { data: Uint8Array; stat: Stat }
  | { children: string[]; stat: Stat }
  | { error: ZkErrorName; code: number };

export interface SessionInfo {
  sessionId: string;
  timeoutMs: number;
}

/** ZooKeeper's KeeperState, as this client can be in it. */
export type ConnectionState = 'Disconnected' | 'SyncConnected' | 'Expired' | 'Closed';
