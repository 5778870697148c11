// TreeCache (Curator's CuratorCache): a local copy of a subtree kept current by one persistentRecursive watch.
// Built by a walk after the watch is armed (so nothing falls between), updated per event in zxid order, and rebuilt
// (emitting the differences) when the server says it could not replay what the watch missed.
import { EventEmitter } from 'node:events';
import type { ZkClient, WatchHandle } from '../client.js';
import { isZkError, ZkClientError } from '../errors.js';
import type { ReadOp, Stat, WatchedEvent } from '../types.js';
import { joinPath } from './common.js';

export interface CachedNode {
  data: Uint8Array;
  stat: Stat;
}

export interface TreeCacheOptions {
  /** Most nodes the cache holds; a larger subtree fails the build with BadArguments. */
  maxNodes?: number;
  /** Paths per multiRead during a build. */
  batchSize?: number;
}

/** Events: 'created' / 'changed' (path, CachedNode), 'deleted' (path), 'initialized', 'rebuilt', 'error' (Error). */
export class TreeCache extends EventEmitter {
  private nodes = new Map<string, CachedNode>();
  private watch: WatchHandle | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly maxNodes: number;
  private readonly batchSize: number;

  constructor(
    private readonly client: ZkClient,
    readonly root: string,
    o: TreeCacheOptions = {},
  ) {
    super();
    this.maxNodes = o.maxNodes ?? 100000;
    this.batchSize = o.batchSize ?? 200;
  }

  get size(): number {
    return this.nodes.size;
  }

  get(path: string): CachedNode | undefined {
    return this.nodes.get(path);
  }

  /** Cached child names of `path`, sorted. */
  children(path: string): string[] {
    const prefix = path === '/' ? '/' : path + '/';
    const out: string[] = [];
    for (const p of this.nodes.keys()) if (p.startsWith(prefix) && p !== path && !p.slice(prefix.length).includes('/')) out.push(p.slice(prefix.length));
    return out.sort();
  }

  paths(): string[] {
    return [...this.nodes.keys()].sort();
  }

  async start(): Promise<void> {
    this.watch = await this.client.watch(this.root, 'persistentRecursive', (e) => this.enqueue(() => this.apply(e)), {
      onResync: () => this.enqueue(() => this.rebuild('rebuilt')),
    });
    this.enqueue(() => this.rebuild('initialized'));
    await this.chain;
  }

  /** Resolves once every event received so far has been applied. */
  settled(): Promise<void> {
    return this.chain;
  }

  close(): void {
    this.watch?.cancel();
    this.watch = undefined;
  }

  private enqueue(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((e: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
    });
  }

  private async apply(e: WatchedEvent): Promise<void> {
    if (e.type === 'NodeDeleted') {
      for (const p of [...this.nodes.keys()]) {
        if (p === e.path || p.startsWith(e.path === '/' ? '/' : e.path + '/')) {
          this.nodes.delete(p);
          this.emit('deleted', p);
        }
      }
      return;
    }
    if (e.type === 'NodeChildrenChanged') return;
    try {
      const r = await this.client.getData(e.path);
      this.put(e.path, { data: r.data, stat: r.stat });
    } catch (err) {
      // Gone again already: its NodeDeleted event is next in line.
      if (!isZkError(err, 'NoNode')) throw err;
    }
  }

  private put(path: string, n: CachedNode): void {
    const old = this.nodes.get(path);
    if (old && old.stat.mzxid === n.stat.mzxid && old.stat.czxid === n.stat.czxid) return;
    if (!old && this.nodes.size >= this.maxNodes) throw new ZkClientError('BadArguments', `tree cache of ${this.root} is full (maxNodes ${this.maxNodes})`);
    this.nodes.set(path, n);
    this.emit(old ? 'changed' : 'created', path, n);
  }

  /** Walks the subtree breadth-first in multiRead batches, then reports the differences from what was cached. */
  private async rebuild(done: 'initialized' | 'rebuilt'): Promise<void> {
    const fresh = new Map<string, CachedNode>();
    let level = [this.root];
    while (level.length > 0) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += this.batchSize) {
        const batch = level.slice(i, i + this.batchSize);
        const ops: ReadOp[] = batch.flatMap((p) => [{ op: 'get' as const, path: p }, { op: 'children' as const, path: p }]);
        const res = await this.client.multiRead(ops);
        batch.forEach((p, j) => {
          const d = res[2 * j];
          const c = res[2 * j + 1];
          if (!d || !('data' in d)) return;
          if (fresh.size >= this.maxNodes) throw new ZkClientError('BadArguments', `tree cache of ${this.root} is full (maxNodes ${this.maxNodes})`);
          fresh.set(p, { data: d.data, stat: d.stat });
          if (c && 'children' in c) for (const name of c.children) next.push(joinPath(p, name));
        });
      }
      level = next;
    }
    for (const p of [...this.nodes.keys()]) {
      if (!fresh.has(p)) {
        this.nodes.delete(p);
        this.emit('deleted', p);
      }
    }
    for (const [p, n] of fresh) this.put(p, n);
    this.emit(done);
  }
}
