// Applied writes on their way into LMDB (WAL-backed stores): groups applied to the pending layer are handed to
// LMDB together, in one transaction, and leave the pending layer when it commits.
import type { RootDatabase } from 'lmdb';
import { mergeGroups, writeRaw, type GroupWrites, type PendingLayer } from './pending.js';
import { ephKey, nodeKey, type TreeDbs } from './schema.js';

/**
 * A WAL-backed store hands applied writes to LMDB at most this often, or sooner once this many transactions
 * wait: reads are served from the pending layer meanwhile, so this trades nothing visible for far fewer LMDB
 * commits (and background flushes) under load.
 */
export const LMDB_COMMIT_INTERVAL_MS = 10;
export const LMDB_COMMIT_TXNS = 5000;

export class WriteBehind {
  /** The last LMDB transaction handed groups; it commits after every earlier one. */
  private lastApply: Promise<void> = Promise.resolve();
  /** Applied groups not yet handed to LMDB: written together, every LMDB_COMMIT_INTERVAL_MS at most. */
  private unwritten: { g: GroupWrites; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private unwrittenTxns = 0;
  private writeTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly env: RootDatabase,
    private readonly dbs: TreeDbs,
    private readonly pending: PendingLayer,
  ) {}

  /** Queues group `g` of `txns` transactions, already applied to the pending layer; the promise is its LMDB commit. */
  add(g: GroupWrites, txns: number): Promise<void> {
    g.txns = txns;
    this.pending.txns += txns;
    this.unwrittenTxns += txns;
    const commit = new Promise<void>((resolve, reject) => this.unwritten.push({ g, resolve, reject }));
    if (this.unwrittenTxns >= LMDB_COMMIT_TXNS) this.writeUnwritten();
    else this.writeTimer ??= setTimeout(() => this.writeUnwritten(), LMDB_COMMIT_INTERVAL_MS);
    return commit;
  }

  /** Resolves when every group added so far is committed to LMDB (handing the rest to LMDB now). */
  writeAll(): Promise<void> {
    this.writeUnwritten();
    return this.lastApply;
  }

  /**
   * One LMDB transaction for every group applied since the last: each key written once, with its latest value
   * (a hot znode set 50 times in 10 ms costs one put). Groups leave the pending layer when it commits.
   */
  writeUnwritten(): void {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = null;
    const batch = this.unwritten.splice(0);
    this.unwrittenTxns = 0;
    if (batch.length === 0) return;
    const merged = mergeGroups(batch.map((b) => b.g));
    const commit = (this.env.transaction(() => this.writeGroup(merged)) as Promise<void>).then(
      () => {
        for (const b of batch) {
          this.pending.committed(b.g);
          b.resolve();
        }
      },
      (e: unknown) => {
        for (const b of batch) b.reject(e);
        throw e;
      },
    );
    commit.catch(() => {});
    this.lastApply = commit;
  }

  private writeGroup(g: GroupWrites): void {
    const { nodes, sessions, ephemerals, special, meta } = this.dbs;
    for (const [p, rec] of g.nodes) void (rec ? nodes.put(nodeKey(p), rec) : nodes.remove(nodeKey(p)));
    for (const [id, rec] of g.sessions) void (rec ? sessions.put(id, rec) : sessions.remove(id));
    for (const e of g.ephemerals.values()) void (e.present ? ephemerals.put(ephKey(e.id, e.path), 1) : ephemerals.remove(ephKey(e.id, e.path)));
    for (const [p, kind] of g.special) void (kind ? special.put(p, kind) : special.remove(p));
    for (const [c, v] of g.counters) void meta.put(c, v);
    for (const [db, m] of g.raw) for (const [k, v] of m) writeRaw(db, k, v);
    if (g.lastZxid !== undefined) void meta.put('lastZxid', g.lastZxid);
  }
}
