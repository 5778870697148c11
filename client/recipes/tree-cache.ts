// TreeCache (Curator's CuratorCache): a local copy of a subtree kept current by one persistentRecursive watch.
// Built by a walk after the watch is armed (so nothing falls between), updated per event in zxid order, and rebuilt
// (emitting the differences) when the server says it could not replay what the watch missed.
import { EventEmitter } from 'node:events';
import type { ZkClient, WatchHandle } from '../client.js';
import { isZkError, ZkClientError } from '../errors.js';
import type { ReadOp, ReadResult, Stat, WatchedEvent } from '../types.js';
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
    // The first build's failure is start()'s (a subtree past maxNodes, no access): not a cache that silently holds part.
    let failed: { error: unknown } | undefined;
    this.enqueue(async () => {
      try {
        await this.rebuild('initialized');
      } catch (error) {
        failed = { error };
      }
    });
    await this.chain;
    if (failed !== undefined) {
      this.close();
      throw failed.error;
    }
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
    if (!old && this.nodes.size >= this.maxNodes) throw this.full();
    this.nodes.set(path, n);
    this.emit(old ? 'changed' : 'created', path, n);
  }

  /**
   * Reads `batch`'s nodes into `fresh` and their children's paths into `next`. An answer past jute.maxbuffer (the
   * multiRead, or one node's names) is read again in halves, a lone node's data alone and its names in pages.
   */
  private async readBatch(batch: string[], fresh: Map<string, CachedNode>, next: string[]): Promise<void> {
    const ops: ReadOp[] = batch.flatMap((p) => [{ op: 'get' as const, path: p }, { op: 'children' as const, path: p }]);
    let res: ReadResult[];
    try {
      res = await this.client.multiRead(ops);
    } catch (e) {
      if (!isZkError(e, 'BadArguments')) throw e;
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await this.readBatch(batch.slice(0, half), fresh, next);
        await this.readBatch(batch.slice(half), fresh, next);
        return;
      }
      const p = batch[0] as string;
      try {
        const d = await this.client.getData(p);
        this.keep(fresh, p, { data: d.data, stat: d.stat });
      } catch (err) {
        if (isZkError(err, 'NoNode')) return;
        throw err;
      }
      await this.listInPages(p, next, fresh.size);
      return;
    }
    const paged: string[] = [];
    batch.forEach((p, j) => {
      const d = res[2 * j];
      const c = res[2 * j + 1];
      if (!d || !('data' in d)) return;
      this.keep(fresh, p, { data: d.data, stat: d.stat });
      if (c && 'children' in c) for (const name of c.children) next.push(joinPath(p, name));
      // More names than one answer holds (jute.maxbuffer): listed in pages below. Anything else is not skipped.
      else if (c && 'error' in c && c.error === 'BadArguments') paged.push(p);
      else if (c && 'error' in c) throw new ZkClientError(c.error, `tree cache of ${this.root}: listing ${p} failed`, { path: p });
    });
    for (const p of paged) await this.listInPages(p, next, fresh.size);
  }

  private full(): ZkClientError {
    return new ZkClientError('BadArguments', `tree cache of ${this.root} is full (maxNodes ${this.maxNodes})`);
  }

  private keep(fresh: Map<string, CachedNode>, path: string, n: CachedNode): void {
    if (fresh.size >= this.maxNodes) throw this.full();
    fresh.set(path, n);
  }

  /** Appends the paths of `path`'s children to `next`, a page at a time; past maxNodes, fails as the walk does. */
  private async listInPages(path: string, next: string[], held: number): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const page = await this.client.getChildrenPage(path, { limit: 10000, ...(after !== undefined && { after }) });
      for (const name of page.children) next.push(joinPath(path, name));
      if (held + next.length > this.maxNodes) throw this.full();
      if (!page.more || page.children.length === 0) return;
      after = page.children[page.children.length - 1];
    }
  }

  /** Walks the subtree breadth-first in multiRead batches, then reports the differences from what was cached. */
  private async rebuild(done: 'initialized' | 'rebuilt'): Promise<void> {
    const fresh = new Map<string, CachedNode>();
    let level = [this.root];
    while (level.length > 0) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += this.batchSize) await this.readBatch(level.slice(i, i + this.batchSize), fresh, next);
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
