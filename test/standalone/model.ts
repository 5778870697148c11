// An independent in-memory oracle of ZooKeeper's znode semantics for the property test: create (plain,
// sequential, ephemeral), setData, delete, multi, reads and closeSession, with ZooKeeper's errors and counters.
// Written from ZOOKEEPER.md, not from server/tree: it must be able to disagree with the server.

export type ZkErr = 'NoNode' | 'NodeExists' | 'NotEmpty' | 'BadVersion' | 'NoChildrenForEphemerals' | 'BadArguments' | 'SessionExpired';

export const HTTP_OF: Record<ZkErr, number> = {
  NoNode: 404,
  NodeExists: 409,
  NotEmpty: 409,
  BadVersion: 412,
  NoChildrenForEphemerals: 400,
  BadArguments: 400,
  SessionExpired: 410,
};

export interface MNode {
  data: string;
  version: number;
  /** Children ever created here: the sequential counter. */
  creates: number;
  /** Child creates plus child deletes: what ZooKeeper reports as cversion. */
  changes: number;
  owner: string | null;
  children: Set<string>;
}

export type Mode = 'plain' | 'sequential' | 'ephemeral' | 'ephemeralSequential';

export type MOp =
  | { op: 'create'; path: string; data: string; mode: Mode }
  | { op: 'set'; path: string; data: string; version: number }
  | { op: 'delete'; path: string; version: number }
  | { op: 'check'; path: string; version: number };

/** `node` is a copy taken when the op ran, as ZooKeeper's per-op results carry the stat of that moment. */
export type MOut = { ok: true; path?: string; node?: MNode } | { ok: false; error: ZkErr };

class Fail extends Error {
  constructor(readonly zk: ZkErr) {
    super(zk);
  }
}

const parentPath = (p: string) => (p.lastIndexOf('/') === 0 ? '/' : p.slice(0, p.lastIndexOf('/')));
const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

function clone(n: MNode): MNode {
  return { ...n, children: new Set(n.children) };
}

export class ZkModel {
  nodes = new Map<string, MNode>();
  sessionOpen = true;

  constructor(
    readonly root: string,
    readonly session: string,
  ) {
    this.nodes.set(root, { data: '', version: 0, creates: 0, changes: 0, owner: null, children: new Set() });
  }

  get(path: string): MNode | undefined {
    return this.nodes.get(path);
  }

  /** Every node at or below the root, sorted: what commands pick targets from. */
  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  private copy(): Map<string, MNode> {
    const m = new Map<string, MNode>();
    for (const [k, v] of this.nodes) m.set(k, clone(v));
    return m;
  }

  private run(nodes: Map<string, MNode>, o: MOp): MOut {
    const node = nodes.get(o.path);
    switch (o.op) {
      case 'create': {
        const eph = o.mode === 'ephemeral' || o.mode === 'ephemeralSequential';
        if (eph && !this.sessionOpen) throw new Fail('SessionExpired');
        const parent = nodes.get(parentPath(o.path));
        if (!parent) throw new Fail('NoNode');
        const seq = o.mode === 'sequential' || o.mode === 'ephemeralSequential';
        const path = seq ? o.path + String(parent.creates).padStart(10, '0') : o.path;
        if (nodes.has(path)) throw new Fail('NodeExists');
        if (parent.owner !== null) throw new Fail('NoChildrenForEphemerals');
        const n: MNode = { data: o.data, version: 0, creates: 0, changes: 0, owner: eph ? this.session : null, children: new Set() };
        nodes.set(path, n);
        parent.creates++;
        parent.changes++;
        parent.children.add(baseName(path));
        return { ok: true, path, node: clone(n) };
      }
      case 'set':
        if (!node) throw new Fail('NoNode');
        if (o.version !== -1 && o.version !== node.version) throw new Fail('BadVersion');
        node.data = o.data;
        node.version++;
        return { ok: true, node: clone(node) };
      case 'delete': {
        const parent = nodes.get(parentPath(o.path));
        if (!parent || !node) throw new Fail('NoNode');
        if (o.version !== -1 && o.version !== node.version) throw new Fail('BadVersion');
        if (node.children.size > 0) throw new Fail('NotEmpty');
        nodes.delete(o.path);
        parent.children.delete(baseName(o.path));
        parent.changes++;
        return { ok: true };
      }
      case 'check':
        if (!node) throw new Fail('NoNode');
        if (o.version !== -1 && o.version !== node.version) throw new Fail('BadVersion');
        return { ok: true };
    }
  }

  /** One write on its own. */
  apply(o: MOp): MOut {
    try {
      return this.run(this.nodes, o);
    } catch (e) {
      if (e instanceof Fail) return { ok: false, error: e.zk };
      throw e;
    }
  }

  /** All or nothing; on failure ZooKeeper's per-op errors: Ok before, the error, RuntimeInconsistency after. */
  multi(ops: MOp[]): { ok: true; outs: MOut[] } | { ok: false; error: ZkErr; results: string[] } {
    const work = this.copy();
    const outs: MOut[] = [];
    for (let i = 0; i < ops.length; i++) {
      try {
        outs.push(this.run(work, ops[i] as MOp));
      } catch (e) {
        if (!(e instanceof Fail)) throw e;
        return { ok: false, error: e.zk, results: ops.map((_, j) => (j < i ? 'Ok' : j === i ? e.zk : 'RuntimeInconsistency')) };
      }
    }
    this.nodes = work;
    return { ok: true, outs };
  }

  /** Closing the session deletes its ephemerals, each a child delete on its parent. */
  closeSession(): void {
    this.sessionOpen = false;
    for (const [p, n] of [...this.nodes]) {
      if (n.owner !== this.session) continue;
      this.nodes.delete(p);
      const parent = this.nodes.get(parentPath(p));
      if (parent) {
        parent.children.delete(baseName(p));
        parent.changes++;
      }
    }
  }
}
