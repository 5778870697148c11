// The replicated log as the core sees it: durable entries in Storage plus an unstable tail (and
// possibly a snapshot) the application has not yet persisted; matching, truncation and commit.

import assert from 'node:assert/strict';
import type { Entry, Snapshot } from './types.js';
import { entrySizeBytes } from './types.js';
import { StorageError, limitSize } from './storage.js';
import type { Storage } from './storage.js';

/** Entries and snapshot not yet handed back through advance(); entries start at `offset`. */
export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];

  constructor(public offset: number) {}

  maybeFirstIndex(): number | undefined {
    return this.snapshot === null ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) {
      return this.offset + this.entries.length - 1;
    }
    return this.snapshot === null ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === i) {
        return this.snapshot.metadata.term;
      }
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) {
      return undefined;
    }
    return this.entries[i - this.offset].term;
  }

  /** Entries up to (i, t) are durable; ignored if that entry has since been replaced. */
  stableTo(i: number, t: number): void {
    if (i < this.offset || this.maybeTerm(i) !== t) {
      return;
    }
    this.entries = this.entries.slice(i + 1 - this.offset);
    this.offset = i + 1;
  }

  stableSnapTo(i: number): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === i) {
      this.snapshot = null;
    }
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: Entry[]): void {
    const after = entries[0].index;
    if (after === this.offset + this.entries.length) {
      this.entries = this.entries.concat(entries);
    } else if (after <= this.offset) {
      // The new entries replace part of the durable log too; the application's append of
      // entries[0] discards the durable suffix (Storage contract).
      this.offset = after;
      this.entries = entries.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(entries);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    assert.ok(lo >= this.offset && hi <= this.offset + this.entries.length, `unstable slice [${lo},${hi})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}

export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(readonly storage: Storage, applied: number) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = Math.max(applied, first - 1);
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Index of the last entry that has been reported durable through advance(). */
  stableLastIndex(): number {
    if (this.unstable.snapshot !== null) {
      return 0;
    }
    return this.unstable.offset - 1;
  }

  /** Term of entry i, or undefined when it is compacted or beyond the end. */
  term(i: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) {
      return undefined;
    }
    const unstableTerm = this.unstable.maybeTerm(i);
    if (unstableTerm !== undefined) {
      return unstableTerm;
    }
    try {
      return this.storage.term(i);
    } catch (error) {
      if (error instanceof StorageError) {
        return undefined;
      }
      throw error;
    }
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert.ok(term !== undefined, 'the last entry always has a term');
    return term;
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** Raft's "at least as up-to-date" rule for granting votes (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of 'app': if our log holds (index, logTerm), append the entries past the first
   * conflict and return the index of the last new entry; otherwise undefined (reject).
   */
  maybeAppend(index: number, logTerm: number, committed: number, entries: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) {
      return undefined;
    }
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert.ok(conflict > this.committed, `entry ${conflict} conflicts with committed ${this.committed}`);
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(entries: Entry[]): number {
    if (entries.length === 0) {
      return this.lastIndex();
    }
    const after = entries[0].index - 1;
    assert.ok(after >= this.committed, `append after ${after} would overwrite committed ${this.committed}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** First entry whose term differs from ours (or that we lack); 0 when all already match. */
  findConflict(entries: Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) {
        return entry.index;
      }
    }
    return 0;
  }

  /**
   * The largest (index', term') with index' <= index and term' <= term in our log, used to skip
   * a whole term of mismatching entries per round trip. Stops with term 0 at the compaction point.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      const t = this.term(i);
      if (t === undefined) {
        return { index: i, term: 0 };
      }
      if (t <= term) {
        return { index: i, term: t };
      }
    }
    return { index: 0, term: 0 };
  }

  commitTo(toCommit: number): void {
    if (toCommit <= this.committed) {
      return;
    }
    assert.ok(toCommit <= this.lastIndex(), `commit ${toCommit} beyond last index ${this.lastIndex()}`);
    this.committed = toCommit;
  }

  /** Commits only entries of the current term by counting (Raft §5.4.2). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(i: number): void {
    if (i === 0) {
      return;
    }
    assert.ok(i <= this.committed && i >= this.applied, `applied ${i} outside [${this.applied}, ${this.committed}]`);
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== null;
  }

  /** Committed entries not yet applied, bounded by maxBytes (at least one when any exist). */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (this.hasPendingSnapshot()) {
      return [];
    }
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed < lo) {
      return [];
    }
    return this.slice(lo, this.committed + 1, maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    return !this.hasPendingSnapshot() && this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** Entries in [lo, hi) from storage and the unstable tail; throws StorageError if compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) {
      return [];
    }
    if (lo < this.firstIndex()) {
      throw new StorageError('compacted', `slice from ${lo} below first index ${this.firstIndex()}`);
    }
    assert.ok(hi <= this.lastIndex() + 1, `slice to ${hi} beyond last index ${this.lastIndex()}`);
    const offset = this.unstable.offset;
    let result: Entry[] = [];
    if (lo < offset) {
      result = this.storage.entries(lo, Math.min(hi, offset), maxBytes);
      const returnedTo = lo + result.length;
      if (returnedTo < Math.min(hi, offset)) {
        return result; // storage stopped at the byte limit
      }
    }
    if (hi > offset) {
      const tail = this.unstable.slice(Math.max(lo, offset), hi);
      result = result.length === 0 ? tail : result.concat(tail);
    }
    return limitSize(result, maxBytes);
  }

  /** Entries from `lo` to the end, bounded by maxBytes. */
  entriesFrom(lo: number, maxBytes: number): Entry[] {
    if (lo > this.lastIndex()) {
      return [];
    }
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  restore(snapshot: Snapshot): void {
    assert.ok(snapshot.metadata.index > this.committed, 'restore must move the log forward');
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  totalSizeBytes(entries: Entry[]): number {
    let total = 0;
    for (const entry of entries) {
      total += entrySizeBytes(entry);
    }
    return total;
  }
}
