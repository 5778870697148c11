// The consensus log in LMDB: entries, term/vote/commit and the compaction point, in the tree's environment
// so that persisting a Ready and applying committed entries commit together. Implements the core's Storage.
import type { Database } from 'lmdb';
import { StorageError, type ConfState, type Entry, type EntryType, type HardState, type InitialState, type Snapshot, type Storage } from '../server/quorum/core/index.js';
import type { RawWriter, Store } from './store.js';
import { writeRaw, type RawDb } from './pending.js';

/** One slot a persist writes: an entry, or null (and no term) where it removes one. */
interface Change {
  index: number;
  e: StoredEntry | null;
  term: number | null;
}

interface StoredEntry {
  type: EntryType;
  data: Uint8Array;
}

interface SnapPoint {
  index: number;
  term: number;
}

/**
 * Bounds of the in-memory copy of the log's newest entries (RaftLog.recent). The bytes are those of the buffers the
 * entries' data are views of (Node's 8 KB allocation pool on the leader, a received frame on a follower), each counted
 * for every entry that holds it: never less than the memory kept.
 */
export const RECENT_ENTRIES_MAX = 4096;
export const RECENT_ENTRIES_MAX_BYTES = 8 * 1024 * 1024;

const heldBytes = (e: Entry): number => e.data.buffer.byteLength;

/**
 * Terms of the retained log are mirrored in memory (8 bytes an entry, bounded by compaction) because the
 * core asks for terms constantly and entries can be megabytes. The newest entries are kept too, within
 * RECENT_ENTRIES_MAX and RECENT_ENTRIES_MAX_BYTES: every entry is read back once to be applied soon after it
 * is written (and by the leader to send to a follower that is a little behind), and reading it from LMDB
 * (a range cursor and a msgpack decode per entry) took 4–5 % of every member's busy main thread in a write
 * load. Older entries are read from LMDB.
 */
export class RaftLog implements Storage {
  private readonly entriesDb: Database<StoredEntry, number>;
  private readonly termsDb: Database<number, number>;
  private hard: HardState;
  private snap: SnapPoint;
  /** terms[i] is the term of index snap.index + 1 + i. */
  private terms: number[] = [];
  /** recent[recentHead + i] is the entry at recentFrom + i; when any is kept, the last is at lastIndex(). */
  private recent: (Entry | undefined)[] = [];
  private recentHead = 0;
  private recentFrom = 0;
  private recentBytes = 0;
  /**
   * Entries written behind (persist with `raw`) whose group has not committed to LMDB yet, null where the group
   * removes one: read from here meanwhile. Bounded by the write-behind's own bound on what it holds.
   */
  private readonly unwritten = new Map<number, { e: StoredEntry | null; gen: number }>();
  /**
   * Set by compact() until its mirror runs: LMDB may already have dropped the entries up to here (the transaction
   * commits on LMDB's thread before the engine's callback runs), so they count as compacted from the moment it asks.
   */
  private compactingTo = 0;
  private readonly unwrittenByGen: { gen: number; indexes: number[] }[] = [];
  private gen = 0;

  constructor(
    private readonly store: Store,
    private readonly conf: ConfState,
  ) {
    this.entriesDb = store.openDb<StoredEntry, number>('raft.entries');
    this.termsDb = store.openDb<number, number>('raft.terms');
    this.hard = store.metaGet<HardState>('raft.hard') ?? { term: 0, vote: 0, commit: 0 };
    this.snap = store.metaGet<SnapPoint>('raft.snap') ?? { index: 0, term: 0 };
    for (const { key, value } of this.termsDb.getRange({ start: this.snap.index + 1, snapshot: false })) {
      if (key !== this.snap.index + 1 + this.terms.length) throw new Error(`raft log has a gap at ${key}`);
      this.terms.push(value);
    }
  }

  initialState(): InitialState {
    return { hardState: { ...this.hard }, confState: { voters: [...this.conf.voters], learners: [...this.conf.learners] } };
  }

  hardState(): HardState {
    return { ...this.hard };
  }

  firstIndex(): number {
    return this.snap.index + 1;
  }

  lastIndex(): number {
    return this.snap.index + this.terms.length;
  }

  term(i: number): number {
    if (i === this.snap.index) return this.snap.term;
    if (i < this.snap.index) throw new StorageError('compacted', `term(${i}) below compaction point ${this.snap.index}`);
    if (i > this.lastIndex()) throw new StorageError('unavailable', `term(${i}) beyond last index ${this.lastIndex()}`);
    return this.terms[i - this.snap.index - 1] as number;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const compacted = Math.max(this.snap.index, this.compactingTo);
    if (lo <= compacted) throw new StorageError('compacted', `entries from ${lo}, compacted to ${compacted}`);
    if (hi > this.lastIndex() + 1) throw new StorageError('unavailable', `entries to ${hi} beyond ${this.lastIndex()}`);
    const out: Entry[] = [];
    let bytes = 0;
    if (this.recent.length > this.recentHead && lo >= this.recentFrom) {
      for (let i = lo; i < hi; i++) {
        const e = this.recent[this.recentHead + i - this.recentFrom] as Entry;
        bytes += e.data.byteLength + 16;
        if (out.length > 0 && bytes > maxBytes) break;
        out.push(e);
      }
      return out;
    }
    if (this.unwritten.size > 0) {
      // Some entries may be on their way into LMDB (written behind): those are read from here, the rest from LMDB.
      for (let i = lo; i < hi; i++) {
        const u = this.unwritten.get(i);
        const value = u ? u.e : this.entriesDb.get(i);
        if (!value) throw new StorageError('unavailable', `entry ${i} is missing`);
        bytes += value.data.byteLength + 16;
        if (out.length > 0 && bytes > maxBytes) break;
        out.push({ index: i, term: this.term(i), type: value.type, data: value.data });
      }
      return out;
    }
    for (const { key, value } of this.entriesDb.getRange({ start: lo, end: hi, snapshot: false })) {
      bytes += value.data.byteLength + 16;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push({ index: key, term: this.term(key), type: value.type, data: value.data });
    }
    return out;
  }

  /**
   * The state machine is always a valid snapshot of itself: the leader ships its live state and the
   * driver rewrites the metadata to the index that state was read at (SnapshotShipper, server/quorum/snapshot-transfer.ts).
   */
  snapshot(): Snapshot {
    return { metadata: { index: this.snap.index, term: this.snap.term, ...this.conf }, data: new Uint8Array(0) };
  }

  // ---- writes: inside Store.writeDurably, or into a write-behind group (`raw`, see Store.applyPending); the in-memory
  // mirror changes after, through the function each returns ----

  /**
   * Writes entries (truncating any conflicting suffix first) and the hard state. Returns the mirror update. With
   * `raw` the writes join a write-behind group, and the entries are kept (unwritten) until `landed` says it committed.
   */
  persist(entries: Entry[], hard: HardState | null, raw?: RawWriter): () => void {
    const write: RawWriter = raw ?? writeRaw;
    let apply = () => {};
    if (entries.length > 0) {
      const first = (entries[0] as Entry).index;
      // The entries' slots from `first` on: the old suffix removed (null), then the new entries, in that order.
      const changes: Change[] = [];
      const last = this.lastIndex();
      for (let i = Math.max(first, this.snap.index + 1); i <= last; i++) changes.push({ index: i, e: null, term: null });
      for (const e of entries) if (e.index > this.snap.index) changes.push({ index: e.index, e: { type: e.type, data: e.data }, term: e.term });
      for (const c of changes) {
        write(this.entriesDb as unknown as RawDb, c.index, c.e);
        write(this.termsDb as unknown as RawDb, c.index, c.term);
      }
      apply = () => {
        if (raw) this.holdUnwritten(changes);
        // Written straight into LMDB (after every group, Store.writeDurably): what was held from `first` on is stale.
        else for (const i of this.unwritten.keys()) if (i >= first) this.unwritten.delete(i);
        const keep = Math.max(0, first - this.snap.index - 1);
        this.terms.length = Math.min(this.terms.length, keep);
        for (const e of entries) if (e.index > this.snap.index) this.terms.push(e.term);
        this.remember(entries);
      };
    }
    if (hard) write(this.store.metaDb, 'raft.hard', hard);
    return () => {
      apply();
      if (hard) this.hard = { ...hard };
    };
  }

  /** The write-behind group of the `writeGen`th persist with `raw` is in LMDB now (and so every earlier one). */
  landed(gen: number): void {
    while (this.unwrittenByGen.length > 0 && (this.unwrittenByGen[0] as { gen: number }).gen <= gen) {
      const g = this.unwrittenByGen.shift() as { gen: number; indexes: number[] };
      for (const i of g.indexes) if (this.unwritten.get(i)?.gen === g.gen) this.unwritten.delete(i);
    }
  }

  /** Counts the persists with `raw`: the value to hand `landed` once the group of the latest has committed. */
  get writeGen(): number {
    return this.gen;
  }

  /** Keeps what a persist with `raw` wrote (its `changes`, in order) until its group lands. */
  private holdUnwritten(changes: Change[]): void {
    const gen = ++this.gen;
    for (const c of changes) this.unwritten.set(c.index, { e: c.e, gen });
    this.unwrittenByGen.push({ gen, indexes: changes.map((c) => c.index) });
  }

  /** Drops entries up to `index` (which must be applied); the compaction point keeps its term. */
  compact(index: number): () => void {
    if (index <= this.snap.index) return () => {};
    const term = this.term(index);
    this.compactingTo = Math.max(this.compactingTo, index);
    for (let i = this.snap.index + 1; i <= index; i++) {
      void this.entriesDb.remove(i);
      void this.termsDb.remove(i);
    }
    this.store.metaPut('raft.snap', { index, term });
    return () => {
      if (this.compactingTo <= index) this.compactingTo = 0;
      this.terms.splice(0, index - this.snap.index);
      this.snap = { index, term };
      this.forgetThrough(index);
      for (const i of this.unwritten.keys()) if (i <= index) this.unwritten.delete(i);
    };
  }

  /** A follower that installed a snapshot at (index, term): the whole log is replaced by that point. */
  resetTo(index: number, term: number): () => void {
    for (const { key } of this.termsDb.getRange({ snapshot: false })) {
      void this.entriesDb.remove(key);
      void this.termsDb.remove(key);
    }
    this.store.metaPut('raft.snap', { index, term });
    return () => {
      this.terms = [];
      this.snap = { index, term };
      this.clearRecent(index + 1);
      // Store.writeDurably commits every write-behind group before this transaction, so none can land after it.
      this.unwritten.clear();
      this.unwrittenByGen.length = 0;
    };
  }

  /** The log restarts at (index, term) with the commit index at `commit`: resetTo and the hard state together. */
  restartAt(index: number, term: number, commit: number): () => void {
    const reset = this.resetTo(index, term);
    const hard = this.persist([], { ...this.hardState(), commit });
    return () => {
      reset();
      hard();
    };
  }

  /** The mirror of persist: `entries` replaced everything from their first index on. */
  private remember(entries: Entry[]): void {
    const first = (entries[0] as Entry).index;
    const kept = this.recent.length - this.recentHead;
    if (kept === 0 || first < this.recentFrom || first > this.recentFrom + kept) {
      this.clearRecent(first);
    } else {
      for (const e of this.recent.splice(this.recentHead + first - this.recentFrom)) this.recentBytes -= heldBytes(e as Entry);
    }
    for (const e of entries) {
      this.recent.push(e);
      this.recentBytes += heldBytes(e);
    }
    // Entries at or below the compaction point are not stored, so neither are they kept here.
    this.forgetThrough(this.snap.index);
    while (this.recent.length - this.recentHead > 1 && (this.recent.length - this.recentHead > RECENT_ENTRIES_MAX || this.recentBytes > RECENT_ENTRIES_MAX_BYTES)) {
      this.forgetThrough(this.recentFrom);
    }
  }

  /** Keeps nothing; the next entry kept will be `from`. */
  private clearRecent(from: number): void {
    this.recent = [];
    this.recentHead = 0;
    this.recentBytes = 0;
    this.recentFrom = from;
  }

  /** Drops the kept entries up to `index`. */
  private forgetThrough(index: number): void {
    while (this.recentHead < this.recent.length && this.recentFrom <= index) {
      this.recentBytes -= heldBytes(this.recent[this.recentHead] as Entry);
      this.recent[this.recentHead++] = undefined;
      this.recentFrom++;
    }
    // The dropped front is cut off once it is most of the array, so each entry is moved at most once on average.
    if (this.recentHead === this.recent.length) {
      this.recent = [];
      this.recentHead = 0;
    } else if (this.recentHead > 1024 && this.recentHead * 2 > this.recent.length) {
      this.recent = this.recent.slice(this.recentHead);
      this.recentHead = 0;
    }
  }

  get compactedTo(): number {
    return this.snap.index;
  }
}
