// Owns the LMDB environment: the znode tree, sessions, ephemeral and sweep indexes, and the last applied zxid.
// Every durable write goes through `writeDurably`, one LMDB transaction per batch, fsync'd before it resolves.
// The layout is in schema.ts, apply's views in store-views.ts, the background commits of a WAL-backed store in
// write-behind.ts, snapshot files in snapshot-file.ts.
import { open, type Database, type RootDatabase } from 'lmdb';
import type { NodeKind, NodeRecord, SessionRecord } from './records.js';
import { byUtf8, type Counter, type TreeView } from './view.js';
import { ReadCache, type CachedRead } from './read-cache.js';
import { nameOf } from '../server/tree/paths.js';
import { PendingLayer, putRaw, type RawDb, type RawKey } from './pending.js';
import { namesBelow, nodeKey, openTreeDbs, storeFile, type TreeDbs } from './schema.js';
import { lmdbView, pendingView } from './store-views.js';
import { WriteBehind } from './write-behind.js';
import { INSTALL_MARK, inspectSnapshot, replaceTree, wipeTree, type SnapshotInfo } from './snapshot-file.js';
import { makeDir } from './make-dir.js';

/** The one znode whose data a member shows from its own config (showConfig). */
const CONFIG_PATH = '/zookeeper/config';

export interface Counters {
  znodes: number;
  dataBytes: number;
  ephemerals: number;
}

export interface StoreOptions {
  dataDir: string;
  /**
   * A write-ahead log makes writes durable (standalone): LMDB commits without waiting for its flush, which
   * runs in the background, and stays crash-consistent at its last flushed (or, same boot, committed) state.
   */
  walBacked?: boolean;
}

/** A write into another database of the environment, in a write-behind group (null removes the key). */
export type RawWriter = (db: RawDb, key: RawKey, value: unknown) => void;

export class Store {
  readonly path: string;
  private readonly env: RootDatabase;
  private readonly dbs: TreeDbs;
  // The databases of `dbs` again, as fields of their own: the per-request reads reach them without going through it.
  private readonly nodes: Database<NodeRecord, Buffer>;
  private readonly sessions: Database<SessionRecord, string>;
  private readonly ephemerals: Database<number, Buffer>;
  private readonly special: Database<NodeKind, string>;
  private readonly meta: Database<number, string>;
  /** Serialised getData answers of unchanged znodes (server/fast-read.ts); see ReadCache for when they go. */
  readonly readCache = new ReadCache<CachedRead>();
  private closed = false;
  private configData: Uint8Array | undefined;
  private readonly walBacked: boolean;
  /** Applied writes on their way into LMDB (WAL-backed stores only); every read looks here first. */
  private readonly pending = new PendingLayer();
  private readonly writeBehind: WriteBehind;
  /** See treeIncomplete. */
  private replacing: boolean;

  private constructor(opts: StoreOptions) {
    this.walBacked = opts.walBacked === true;
    makeDir(opts.dataDir);
    this.path = storeFile(opts.dataDir);
    // Durability is explicit. Without a WAL, overlappingSync is off so that a transaction's promise resolves only
    // once it is fsync'd (lmdb-js defaults it on, resolving at commit). With a WAL it is on, and writeDurably
    // waits for `flushed` itself. noSync/noMetaSync stay off either way.
    this.env = open({
      path: this.path,
      overlappingSync: this.walBacked,
      noSync: false,
      noMetaSync: false,
      useWritemap: false,
      maxDbs: 16,
      compression: false,
    });
    this.dbs = openTreeDbs(this.env);
    ({ nodes: this.nodes, sessions: this.sessions, ephemerals: this.ephemerals, special: this.special, meta: this.meta } = this.dbs);
    this.writeBehind = new WriteBehind(this.env, this.dbs, this.pending);
    this.replacing = this.installInterrupted;
  }

  /** Another named database in the same environment, so its writes commit atomically with the tree's. */
  openDb<V, K extends string | number | Buffer = string>(name: string, keyEncoding?: 'binary' | 'uint32' | 'ordered-binary'): Database<V, K> {
    return this.env.openDB<V, K>(name, keyEncoding ? { keyEncoding } : {});
  }

  metaGet<V>(key: string): V | undefined {
    return (this.meta as unknown as Database<V, string>).get(key);
  }

  /** Only inside writeDurably's callback. */
  metaPut<V>(key: string, value: V): void {
    void (this.meta as unknown as Database<V, string>).put(key, value);
  }

  static open(opts: StoreOptions): Store {
    return new Store(opts);
  }

  // ---- reads of committed state (synchronous, memory-mapped) ----

  getNode(path: string): NodeRecord | undefined {
    const e = this.pending.nodes.get(path);
    const n = e ? (e.value ?? undefined) : this.nodes.get(nodeKey(path));
    return this.configData !== undefined && n !== undefined && path === CONFIG_PATH ? { ...n, data: this.configData } : n;
  }

  /**
   * What /zookeeper/config reads as: an ensemble member's server lines, as ZooKeeper's members show theirs. It is
   * read from this node's config, never stored, so no write goes around the log and the members' trees stay alike.
   */
  showConfig(data: Uint8Array): void {
    this.configData = data;
    this.readCache.invalidate(CONFIG_PATH);
  }

  /** The names of `path`'s children in UTF-8 byte order: the first `limit` of them, of those after `after` if given. */
  childNames(path: string, limit?: number, after?: string): string[] {
    const touched = this.pending.children.get(path);
    if (!touched) return namesBelow(this.nodes, path, limit, after);
    // Pending deletes can hide at most `touched.size` of LMDB's first names, so that many more are read.
    const base = namesBelow(this.nodes, path, limit === undefined ? undefined : limit + touched.size, after);
    return overlayNames(base, [...touched].map((p) => [nameOf(p), this.pending.nodes.get(p)?.value != null]), limit, after);
  }

  /** Every node path in the subtree below `path` (not including it), depth-first pre-order, bounded. */
  subtreePaths(path: string, max: number): string[] | null {
    const out: string[] = [];
    const stack = [path];
    while (stack.length > 0) {
      const p = stack.pop() as string;
      // Past max, the answer is null whatever else there is: no more names than that are read.
      const names = this.childNames(p, max - out.length + 1);
      for (let i = names.length - 1; i >= 0; i--) {
        const child = (p === '/' ? '/' : p + '/') + names[i];
        out.push(child);
        if (out.length > max) return null;
        stack.push(child);
      }
    }
    return out;
  }

  getSession(id: string): SessionRecord | undefined {
    const e = this.pending.sessions.get(id);
    if (e) return e.value ?? undefined;
    return this.sessions.get(id);
  }

  listSessions(): SessionRecord[] {
    const out = new Map<string, SessionRecord>();
    for (const e of this.sessions.getRange({ snapshot: false })) out.set(e.key, e.value);
    for (const [id, e] of this.pending.sessions) {
      if (e.value) out.set(id, e.value);
      else out.delete(id);
    }
    return [...out.values()];
  }

  /** The paths of the session's ephemerals in UTF-8 byte order: the first `limit`, of those after `after` if given. */
  sessionEphemerals(id: string, limit?: number, after?: string): string[] {
    const touched = this.pending.ephemerals.get(id);
    if (!touched) return namesBelow(this.ephemerals, id, limit, after);
    const base = namesBelow(this.ephemerals, id, limit === undefined ? undefined : limit + touched.size, after);
    return overlayNames(base, [...touched].map(([p, e]) => [p, e.value === true]), limit, after);
  }

  /**
   * Container and TTL nodes, for the sweeper; an index, so the sweep never walks the tree. In path order, from the
   * first path after `after` (from the start without it), at most `limit`.
   */
  specialNodes(limit: number, after?: string): { path: string; kind: NodeKind }[] {
    const out = new Map<string, NodeKind>();
    const beyond = (p: string) => after === undefined || byUtf8(p, after) > 0;
    // `after` itself, when still indexed, is the range's first entry: one more read keeps the listing `limit` long.
    const range = this.special.getRange({ start: after, limit: limit + 1 + this.pending.special.size, snapshot: false });
    for (const e of range) if (beyond(e.key)) out.set(e.key, e.value);
    for (const [p, e] of this.pending.special) {
      if (e.value && beyond(p)) out.set(p, e.value);
      else out.delete(p);
    }
    const entries = [...out];
    // Pending additions went in after LMDB's entries: restore key order so a bounded listing is the one after the commit.
    if (this.pending.special.size > 0) entries.sort(([a], [b]) => byUtf8(a, b));
    return entries.slice(0, limit).map(([path, kind]) => ({ path, kind }));
  }

  lastZxid(): number {
    return this.pending.lastZxid?.value ?? this.meta.get('lastZxid') ?? 0;
  }

  /** A counter's value as reads see it (for the pending view's bump). */
  counter(c: Counter): number {
    return this.pending.counters.get(c)?.value ?? this.meta.get(c) ?? 0;
  }

  counters(): Counters {
    return { znodes: this.counter('znodes'), dataBytes: this.counter('dataBytes'), ephemerals: this.counter('ephemerals') };
  }

  /** Transactions applied but not yet committed to LMDB (WAL-backed stores). */
  get pendingTxns(): number {
    return this.pending.txns;
  }

  /** Resolves when every transaction applied so far is committed to LMDB (handing the rest to LMDB now). */
  appliedCommitted(): Promise<void> {
    return this.writeBehind.writeAll();
  }

  // ---- writes ----

  /**
   * Runs `fn` inside one LMDB write transaction and resolves once it is committed and fsync'd.
   * `fn` must not throw (lmdb-js would commit the writes made before the throw): callers buffer in an
   * OverlayView and write only what succeeded.
   */
  writeDurably(fn: (view: TreeView, setLastZxid: (z: number) => void) => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    const observe = this.durableWriteObserver;
    const t0 = observe ? process.hrtime.bigint() : 0n;
    const committed = this.commit(fn);
    const done = this.walBacked ? committed.then(() => this.flushed()) : committed;
    if (!observe) return done;
    return done.then(() => observe(Number(process.hrtime.bigint() - t0) / 1e9));
  }

  /**
   * Like writeDurably but resolves at commit, before LMDB's flush: only for transactions already durable in
   * the write-ahead log, which replays them if the flush never happens.
   */
  writeApplied(fn: (view: TreeView, setLastZxid: (z: number) => void) => void): Promise<void> {
    if (!this.walBacked) return this.writeDurably(fn);
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return this.commit(fn);
  }

  /** One LMDB transaction over the write view, after every applied group (so LMDB sees them in order). */
  private commit(fn: (view: TreeView, setLastZxid: (z: number) => void) => void): Promise<void> {
    this.writeBehind.writeUnwritten();
    const touched: string[] = [];
    const cache = this.readCache;
    const view = lmdbView(this, this.dbs, touched);
    const txn = this.env.transaction(() => {
      fn(view, (z) => {
        this.meta.put('lastZxid', z);
      });
    }) as Promise<void>;
    const visible = () => {
      for (const p of touched) cache.writeVisible(p);
    };
    return txn.then(visible, (e: unknown) => {
      visible();
      throw e;
    });
  }

  /**
   * Applies `txns` transactions now, in memory, on top of LMDB (reads see them at once), and commits them to
   * LMDB in the background; the promise is that commit. Only for transactions already durable in the
   * write-ahead log. `fn` must not throw (the writes it made before the throw would be visible). `raw` writes go
   * into the same LMDB transaction, unseen by the store's reads (see GroupWrites.raw).
   */
  applyPending(txns: number, fn: (view: TreeView, setLastZxid: (z: number) => void, raw: RawWriter) => void): Promise<void> {
    if (!this.walBacked) return Promise.reject(new Error('applyPending needs a WAL-backed store'));
    if (this.closed) return Promise.reject(new Error('store is closed'));
    const pending = this.pending;
    const g = pending.newGroup();
    fn(
      pendingView(this, pending, g),
      (z) => pending.setLastZxid(g, z),
      (db, key, value) => putRaw(g, db, key, value),
    );
    return this.writeBehind.add(g, txns);
  }

  /** The meta database, for raw writes of others' keys in it (the consensus log's). */
  get metaDb(): RawDb {
    return this.meta as unknown as RawDb;
  }

  /** Resolves once every commit so far is flushed to disk. */
  flushed(): Promise<void> {
    return Promise.resolve(this.env.flushed as unknown as Promise<void>).then(() => undefined);
  }

  /** Told the seconds each durable write took (commit + fsync), for the fsync histogram. */
  durableWriteObserver?: (seconds: number) => void;

  /**
   * Writes a consistent point-in-time copy of the whole environment to `file` (one LMDB read transaction,
   * compacted), while writes go on. The copy opens as a store's `zkgate.mdb` (see restoreSnapshot).
   */
  async backupTo(file: string): Promise<SnapshotInfo> {
    if (this.closed) throw new Error('store is closed');
    // Everything applied when the snapshot was asked for is in it, not only what LMDB had committed by then.
    await this.appliedCommitted();
    await this.env.backup(file, true);
    return Store.inspectSnapshot(file);
  }

  /** Opens a snapshot file read-only and reports what it holds; throws when it is not a zkgate store. */
  static inspectSnapshot(file: string): SnapshotInfo {
    return inspectSnapshot(file);
  }

  /** The file a store in `dataDir` lives in, where a restore puts a snapshot. */
  static fileIn(dataDir: string): string {
    return storeFile(dataDir);
  }

  /**
   * Replaces the tree, sessions and indexes with those of a snapshot file, in bounded batches. The
   * `snap.installing` mark makes a crash half-way visible at the next start (see wipeTree).
   */
  async replaceTreeFrom(file: string, inFinalTxn: (zxid: number) => void = () => {}, batchKeys = 10000): Promise<{ zxid: number }> {
    this.replacing = true;
    try {
      return await replaceTree(this, this.dbs, file, inFinalTxn, batchKeys);
    } finally {
      // A replace that failed after its first write leaves the mark, and the tree stays incomplete until one succeeds.
      this.replacing = this.installInterrupted;
    }
  }

  /**
   * While a replace runs, and after one failed half-way: the tree is neither the state before it nor the snapshot's
   * (wiped, then refilled in batches), so nothing may be read from it.
   */
  get treeIncomplete(): boolean {
    return this.replacing;
  }

  /** True when a snapshot install was interrupted: the tree is a mix and must be rebuilt from the leader. */
  get installInterrupted(): boolean {
    return this.meta.get(INSTALL_MARK) !== undefined;
  }

  /** Only inside writeDurably's callback. */
  clearInstallMark(): void {
    void this.meta.remove(INSTALL_MARK);
    this.replacing = false;
  }

  /** Empties the tree, sessions, indexes and counters, in bounded batches. */
  wipeTree(batchKeys = 10000): Promise<void> {
    return wipeTree(this, this.dbs, batchKeys);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A closed store answers nothing, not even from the cache (the fast read path then leaves it to fastify).
    this.readCache.suspend();
    await this.writeBehind.writeAll().catch(() => {});
    // After a clean stop LMDB holds everything, so the log is redundant (and an older release can open the dir).
    if (this.walBacked) await this.flushed();
    await this.env.close();
  }
}

/**
 * LMDB's names (in byte order; with `limit`, at least `limit` plus as many as `changes` has) with the pending layer's
 * changes over them (name, and whether it is there now): the first `limit`, of those after `after`.
 */
function overlayNames(base: string[], changes: [string, boolean][], limit?: number, after?: string): string[] {
  const names = new Set(base);
  for (const [name, present] of changes) {
    if (after !== undefined && byUtf8(name, after) <= 0) continue;
    if (present) names.add(name);
    else names.delete(name);
  }
  const out = [...names].sort(byUtf8);
  return limit === undefined ? out : out.slice(0, limit);
}
