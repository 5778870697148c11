// What the store persists per znode and per session, and the identities ACLs name.

export type Perm = 'c' | 'd' | 'r' | 'w' | 'a';
export const PERM_BITS = { r: 1, w: 2, c: 4, d: 8, a: 16 } as const;
export const PERM_ALL = 31;

export interface Acl {
  scheme: string;
  id: string;
  /** Bitmask of PERM_BITS. */
  perms: number;
}

/** An identity a request carries (world:anyone is implicit; `super` skips all checks). */
export interface AuthId {
  scheme: 'digest' | 'ip' | 'super' | 'x509';
  id: string;
}

export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

/** What LMDB stores per znode. `cversion` is ZooKeeper's stored counter: children ever created. */
export interface NodeRecord {
  data: Uint8Array;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** Session id (hex) for ephemerals, '' otherwise. */
  owner: string;
  kind: NodeKind;
  ttlMs: number;
  numChildren: number;
  acl: Acl[];
}

export interface SessionRecord {
  id: string;
  timeoutMs: number;
  createdZxid: number;
  /** The highest ZK-Session-Epoch a write of the session committed with (server/session-epochs.ts); absent: none. */
  epoch?: number;
}

