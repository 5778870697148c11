// The in-memory ZooKeeper the server is compared against: nodes, the tree, stat rules and the create/set/
// delete/check semantics, written from API.md and ZOOKEEPER.md so that it can disagree with server/tree.
import type { Stat } from '../../../client/types.js';

// ---------------------------------------------------------------------------------------------------------------
// The model

export type Kind = 'persistent' | 'ephemeral' | 'container' | 'ttl';
export type ErrName = 'BadArguments' | 'NoNode' | 'NoAuth' | 'BadVersion' | 'NoChildrenForEphemerals' | 'NodeExists' | 'NotEmpty' | 'SessionExpired';

export const CODE: Record<ErrName | 'RuntimeInconsistency' | 'Ok', number> = {
  Ok: 0,
  RuntimeInconsistency: -2,
  BadArguments: -8,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
};
export const STATUS: Record<ErrName, number> = {
  BadArguments: 400,
  NoNode: 404,
  NoAuth: 403,
  BadVersion: 412,
  NoChildrenForEphemerals: 400,
  NodeExists: 409,
  NotEmpty: 409,
  SessionExpired: 410,
};

export class ZkFail extends Error {
  constructor(readonly zk: ErrName) {
    super(zk);
  }
}

export interface MNode {
  data: Buffer;
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  /** As reported: child creates + child deletes (ZooKeeper 3.8's 2 × creates − numChildren). */
  cversion: number;
  aversion: number;
  kind: Kind;
  /** Session id of an ephemeral. */
  owner: string;
  ttl: number;
  /** Children ever created here: the sequential counter. */
  seq: number;
  /** world:anyone:r (the /zookeeper subtree); every other node is world:anyone:cdrwa. */
  readOnly: boolean;
  children: Set<string>;
}

export interface MSession {
  id: string;
  open: boolean;
}

export type Tree = Map<string, MNode>;

const parentOf = (p: string) => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));
const nameOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);
export const join = (parent: string, name: string) => (parent === '/' ? '/' + name : parent + '/' + name);
const RESERVED_PATHS = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);
export const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function cloneNode(n: MNode): MNode {
  return { ...n, children: new Set(n.children) };
}
export function cloneTree(tr: Tree): Tree {
  const out: Tree = new Map();
  for (const [k, v] of tr) out.set(k, cloneNode(v));
  return out;
}

/** ZooKeeper's getClientEphemeralOwner: containers and TTL nodes report 0, as persistent ones do. */
function ownerOf(n: MNode): string {
  return n.kind === 'ephemeral' ? n.owner : '0x0';
}

/** The wire shape the model's stat is compared in (the model's rules stay its own). */
export type { Stat };

export function statOf(n: MNode): Stat {
  return {
    czxid: String(n.czxid),
    mzxid: String(n.mzxid),
    pzxid: String(n.pzxid),
    ctime: n.ctime,
    mtime: n.mtime,
    version: n.version,
    cversion: n.cversion,
    aversion: n.aversion,
    ephemeralOwner: ownerOf(n),
    dataLength: n.data.length,
    numChildren: n.children.size,
  };
}

function fresh(kind: Kind, data: Buffer, z: number, time: number, owner = '', ttl = 0): MNode {
  return { data, czxid: z, mzxid: z, pzxid: z, ctime: time, mtime: time, version: 0, cversion: 0, aversion: 0, kind, owner, ttl, seq: 0, readOnly: false, children: new Set() };
}

/** A txn's zxid and time, as the server's answer reports them. */
export interface Txn {
  z: number;
  time: number;
}

function insert(tr: Tree, path: string, node: MNode, x: Txn): void {
  const parent = tr.get(parentOf(path)) as MNode;
  tr.set(path, node);
  parent.children.add(nameOf(path));
  parent.seq++;
  parent.cversion++;
  parent.pzxid = x.z;
}

export function removeNode(tr: Tree, path: string, x: Txn): void {
  const parent = tr.get(parentOf(path)) as MNode;
  tr.delete(path);
  parent.children.delete(nameOf(path));
  parent.cversion++;
  parent.pzxid = x.z;
}

function checkVersion(expected: number, actual: number): void {
  if (expected !== -1 && expected !== actual) throw new ZkFail('BadVersion');
}

interface CreateSpec {
  path: string;
  data: Buffer;
  kind: Kind;
  seq: boolean;
  parents: boolean;
  ttl: number;
  owner: string;
}

/** create2 in ZooKeeper's order (PrepRequestProcessor.pRequest2TxnCreate): parent, ACL, name, NodeExists, ephemeral parent. */
export function mCreate(tr: Tree, c: CreateSpec, x: Txn): string {
  const pp = parentOf(c.path);
  let parent = tr.get(pp);
  if (!parent && c.parents) {
    // ?parents: the missing ancestors, top-down, as empty persistent nodes, in the same transaction.
    const chain: string[] = [];
    for (let p = pp; !tr.has(p); p = parentOf(p)) chain.push(p);
    for (const a of chain.reverse()) {
      const ap = tr.get(parentOf(a)) as MNode;
      if (ap.readOnly) throw new ZkFail('NoAuth');
      if (ap.kind === 'ephemeral') throw new ZkFail('NoChildrenForEphemerals');
      insert(tr, a, fresh('persistent', Buffer.alloc(0), x.z, x.time), x);
    }
    parent = tr.get(pp);
  }
  if (!parent) throw new ZkFail('NoNode');
  if (parent.readOnly) throw new ZkFail('NoAuth');
  const path = c.seq ? c.path + String(parent.seq).padStart(10, '0') : c.path;
  if (tr.has(path)) throw new ZkFail('NodeExists');
  if (parent.kind === 'ephemeral') throw new ZkFail('NoChildrenForEphemerals');
  insert(tr, path, fresh(c.kind, Buffer.from(c.data), x.z, x.time, c.kind === 'ephemeral' ? c.owner : '', c.ttl), x);
  return path;
}

export function mSet(tr: Tree, path: string, data: Buffer, version: number, x: Txn): MNode {
  const n = tr.get(path);
  if (!n) throw new ZkFail('NoNode');
  if (n.readOnly) throw new ZkFail('NoAuth');
  checkVersion(version, n.version);
  n.data = Buffer.from(data);
  n.version++;
  n.mzxid = x.z;
  n.mtime = x.time;
  return n;
}

/** delete in ZooKeeper's order: special path, parent, ACL, node, version, NotEmpty; `?recursive` takes the subtree. */
export function mDelete(tr: Tree, path: string, version: number, recursive: boolean, x: Txn): void {
  if (RESERVED_PATHS.has(path)) throw new ZkFail('BadArguments');
  const parent = tr.get(parentOf(path));
  if (!parent) throw new ZkFail('NoNode');
  if (parent.readOnly) throw new ZkFail('NoAuth');
  const n = tr.get(path);
  if (!n) throw new ZkFail('NoNode');
  checkVersion(version, n.version);
  if (n.children.size > 0) {
    if (!recursive) throw new ZkFail('NotEmpty');
    const below = [...tr.keys()].filter((p) => p.startsWith(path + '/'));
    below.sort((a, b) => b.split('/').length - a.split('/').length);
    for (const p of below) removeNode(tr, p, x);
  }
  removeNode(tr, path, x);
}

export function mCheck(tr: Tree, path: string, version: number): void {
  const n = tr.get(path);
  if (!n) throw new ZkFail('NoNode');
  checkVersion(version, n.version);
}

export class Model {
  tree: Tree = new Map();
  sessions: MSession[] = [];
  /** The last zxid the server reported for a write. */
  zxid = 0;

  constructor() {
    // The fresh tree ZooKeeper starts with (DataTree): /, /zookeeper, /zookeeper/quota, /zookeeper/config, all at zxid
    // 0 and time 0, their children added without counting, so / reports cversion -1 and /zookeeper -2. The /zookeeper
    // subtree is world:anyone:r as ZOOKEEPER.md §1.6 reads; ZooKeeper's own DataTree makes only /zookeeper/config
    // read-only (/zookeeper and /zookeeper/quota are open), so following it means readOnly false on those two.
    const base = (readOnly: boolean, children: string[]): MNode => ({ ...fresh('persistent', Buffer.alloc(0), 0, 0), readOnly, children: new Set(children) });
    this.tree.set('/', { ...base(false, ['zookeeper']), cversion: -1 });
    this.tree.set('/zookeeper', { ...base(true, ['quota', 'config']), cversion: -2 });
    this.tree.set('/zookeeper/quota', base(true, []));
    this.tree.set('/zookeeper/config', base(true, []));
  }

  /** User paths (not the /zookeeper subtree), sorted: what "an existing node" picks from. */
  userPaths(): string[] {
    return [...this.tree.keys()].filter((p) => p !== '/' && p !== '/zookeeper' && !p.startsWith('/zookeeper/')).sort();
  }

  ephemeralsOf(id: string): string[] {
    return [...this.tree.entries()].filter(([, n]) => n.kind === 'ephemeral' && n.owner === id).map(([p]) => p).sort(byUtf8);
  }
}
