// Answers derived from znode records (the fast read path's serialised getData), kept per path and dropped the
// moment the record changes. The store owns it because the store is where records change: every write of a
// path invalidates it when the write becomes visible to reads, and a write still on its way (put in an LMDB
// transaction that has not committed, so reads still see the old record) keeps the path out of the cache.
// Bounded by entries and bytes; the oldest entry goes first.

export const READ_CACHE_MAX_ENTRIES = 10_000;
export const READ_CACHE_MAX_BYTES = 16 * 1024 * 1024;
/** Larger answers are not cached: a few of them would push out thousands of small ones. */
export const READ_CACHE_MAX_ENTRY_BYTES = 64 * 1024;

/** What the fast read path keeps per znode: the whole JSON body and the ETag header it goes with. */
export interface CachedRead {
  body: Buffer;
  etag: string;
}

interface Entry<V> {
  value: V;
  bytes: number;
}

export class ReadCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Paths with a write not yet visible to reads, and how many. */
  private readonly writing = new Map<string, number>();
  private bytes = 0;
  private suspended = 0;
  /** Where eviction is in the entries' insertion order (see oldest). */
  private order: Iterator<string> | undefined;

  constructor(
    readonly maxEntries = READ_CACHE_MAX_ENTRIES,
    readonly maxBytes = READ_CACHE_MAX_BYTES,
  ) {}

  get(path: string): V | undefined {
    return this.entries.get(path)?.value;
  }

  /** Caches what a read of `path` made from the record it saw; refused while that record may be outdated. */
  set(path: string, value: V, bytes: number): void {
    if (this.suspended > 0 || bytes > READ_CACHE_MAX_ENTRY_BYTES || bytes > this.maxBytes || this.writing.has(path)) return;
    this.invalidate(path);
    while (this.entries.size >= this.maxEntries || this.bytes + bytes > this.maxBytes) {
      const oldest = this.oldest();
      if (oldest === undefined) break;
      this.invalidate(oldest);
    }
    this.entries.set(path, { value, bytes });
    this.bytes += bytes;
  }

  /**
   * The entry set longest ago. One iterator walks the entries for as long as it lasts: everything it has passed was
   * evicted, and an entry set again moves to the end, so its next entry is always the oldest. A fresh iterator per
   * eviction would step over every entry deleted since V8 last rehashed the Map (thousands, at 10,000 entries
   * with reads missing the cache: microseconds per read).
   */
  private oldest(): string | undefined {
    this.order ??= this.entries.keys();
    const next = this.order.next();
    if (!next.done) return next.value;
    // Only an empty cache ends the walk (nothing live lies behind it), and a finished iterator stays finished.
    this.order = undefined;
    return undefined;
  }

  /** The record at `path` changed, and reads already see the change. */
  invalidate(path: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    this.entries.delete(path);
    this.bytes -= e.bytes;
  }

  /** A write of `path` is made but not yet visible: until writeVisible, reads may see the old record. */
  writeBegins(path: string): void {
    this.writing.set(path, (this.writing.get(path) ?? 0) + 1);
    this.invalidate(path);
  }

  /** The write writeBegins announced is visible now (or failed). */
  writeVisible(path: string): void {
    const n = (this.writing.get(path) ?? 1) - 1;
    if (n <= 0) this.writing.delete(path);
    else this.writing.set(path, n);
    this.invalidate(path);
  }

  /** For bulk rewrites of the tree (a snapshot install): nothing is cached until resume. */
  suspend(): void {
    this.suspended++;
    this.clear();
  }

  resume(): void {
    this.suspended--;
  }

  clear(): void {
    this.entries.clear();
    this.order = undefined;
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get byteSize(): number {
    return this.bytes;
  }
}
