// Cross-node safety checks run during simulation: the five Raft properties (election safety,
// leader append-only, log matching, leader completeness, state machine safety), one applied
// history for every node, and linearizable ReadIndex answers.

import type { Entry } from '../../../server/quorum/core/types.js';

export class SafetyViolation extends Error {
  constructor(property: string, detail: string) {
    super(`${property}: ${detail}`);
    this.name = 'SafetyViolation';
  }
}

/** Read access to one node's current log, whatever its durability. */
export interface LogView {
  term(index: number): number | undefined;
  firstIndex: number;
  lastIndex: number;
}

interface LoggedEntry {
  data: Uint8Array;
  previousTerm: number | undefined;
}

interface LeaderView {
  term: number;
  lastIndex: number;
  /** Terms of the uncommitted tail at the last observation: a leader must never rewrite them. */
  tail: Map<number, number>;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

/** FNV-1a step over the entry's term, type and data: the simulated state machine's digest. */
export function chainHash(previous: number, entry: Entry): number {
  let hash = (previous ^ 0x811c9dc5) >>> 0;
  const mix = (byte: number): void => {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  };
  mix(entry.term & 0xff);
  mix((entry.term >>> 8) & 0xff);
  mix(entry.type === 'normal' ? 1 : entry.type === 'noop' ? 2 : 3);
  for (let i = 0; i < entry.data.length; i++) {
    mix(entry.data[i]);
  }
  return hash;
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, number>();
  private readonly logged = new Map<string, LoggedEntry>();
  private readonly committedTerm = new Map<number, number>();
  private maxCommitted = 0;
  private readonly applied = new Map<number, Entry>();
  private readonly digestAt = new Map<number, number>([[0, 0]]);
  private readonly leaders = new Map<number, LeaderView>();
  /** Per node, the commit index already recorded, so each commit is scanned once. */
  private readonly commitCursor = new Map<number, number>();
  checks = 0;

  committedIndex(): number {
    return this.maxCommitted;
  }

  /** Election safety, plus leader completeness at the moment a node becomes leader. */
  onLeader(id: number, term: number, log: LogView): void {
    this.checks++;
    const existing = this.leaderOfTerm.get(term);
    if (existing !== undefined && existing !== id) {
      throw new SafetyViolation('election safety', `term ${term} has leaders ${existing} and ${id}`);
    }
    this.leaderOfTerm.set(term, id);
    if (log.lastIndex < this.maxCommitted) {
      throw new SafetyViolation(
        'leader completeness',
        `leader ${id} of term ${term} ends at ${log.lastIndex}, before commit ${this.maxCommitted}`,
      );
    }
    for (let i = Math.max(1, log.firstIndex); i <= this.maxCommitted; i++) {
      const expected = this.committedTerm.get(i);
      if (expected !== undefined && log.term(i) !== expected) {
        throw new SafetyViolation(
          'leader completeness',
          `leader ${id} of term ${term} has term ${log.term(i)} at committed ${i} (term ${expected})`,
        );
      }
    }
  }

  /** Leader append-only: while leader of one term, a node never rewrites its uncommitted tail. */
  onLeaderLog(id: number, term: number, commit: number, log: LogView): void {
    this.checks++;
    const previous = this.leaders.get(id);
    if (previous !== undefined && previous.term === term) {
      if (log.lastIndex < previous.lastIndex) {
        throw new SafetyViolation('leader append-only', `leader ${id} log shrank to ${log.lastIndex}`);
      }
      for (const [index, t] of previous.tail) {
        if (index >= log.firstIndex && log.term(index) !== t) {
          throw new SafetyViolation('leader append-only', `leader ${id} rewrote entry ${index} of term ${t}`);
        }
      }
    }
    const tail = new Map<number, number>();
    for (let i = Math.max(commit + 1, log.firstIndex); i <= log.lastIndex; i++) {
      tail.set(i, log.term(i) ?? -1);
    }
    this.leaders.set(id, { term, lastIndex: log.lastIndex, tail });
  }

  onRestart(id: number): void {
    this.commitCursor.delete(id);
    this.leaders.delete(id);
  }

  onNotLeader(id: number): void {
    this.leaders.delete(id);
  }

  /** Log matching: one (index, term) names one entry with one predecessor term, on every node. */
  onAppend(id: number, entries: Entry[], log: LogView): void {
    for (let k = 0; k < entries.length; k++) {
      this.checks++;
      const entry = entries[k];
      const previousTerm = k > 0 ? entries[k - 1].term : log.term(entry.index - 1);
      const key = `${entry.index}/${entry.term}`;
      const known = this.logged.get(key);
      if (known === undefined) {
        this.logged.set(key, { data: entry.data, previousTerm });
        continue;
      }
      if (!bytesEqual(known.data, entry.data)) {
        throw new SafetyViolation('log matching', `node ${id}: entry ${key} has different data elsewhere`);
      }
      if (previousTerm !== undefined && known.previousTerm !== undefined && previousTerm !== known.previousTerm) {
        throw new SafetyViolation(
          'log matching',
          `node ${id}: entry ${key} follows term ${previousTerm} here but ${known.previousTerm} elsewhere`,
        );
      }
      if (known.previousTerm === undefined && previousTerm !== undefined) {
        known.previousTerm = previousTerm;
      }
    }
  }

  /** A node learned commit index `commit`: all entries up to it are committed with their terms. */
  onCommit(id: number, commit: number, log: LogView): void {
    const from = Math.max(log.firstIndex, 1, (this.commitCursor.get(id) ?? 0) + 1);
    this.commitCursor.set(id, commit);
    for (let i = from; i <= commit; i++) {
      const term = log.term(i);
      if (term === undefined) {
        continue;
      }
      const known = this.committedTerm.get(i);
      if (known === undefined) {
        this.committedTerm.set(i, term);
      } else if (known !== term) {
        throw new SafetyViolation('state machine safety', `node ${id} committed term ${term} at ${i}, others ${known}`);
      }
    }
    this.maxCommitted = Math.max(this.maxCommitted, commit);
  }

  /** State machine safety and a single history: node applies `entry` after index entry.index-1. */
  onApply(id: number, entry: Entry, digestAfter: number): void {
    this.checks++;
    const known = this.applied.get(entry.index);
    if (known === undefined) {
      this.applied.set(entry.index, entry);
    } else if (known.term !== entry.term || known.type !== entry.type || !bytesEqual(known.data, entry.data)) {
      throw new SafetyViolation(
        'state machine safety',
        `node ${id} applied ${entry.term}/${entry.index}, another node applied ${known.term}/${known.index}`,
      );
    }
    this.checkDigest(id, entry.index, digestAfter);
  }

  /** A node's state machine was replaced by a snapshot at `index` with digest `digest`. */
  onStateRestored(id: number, index: number, digest: number): void {
    this.checks++;
    this.checkDigest(id, index, digest);
  }

  private checkDigest(id: number, index: number, digest: number): void {
    const known = this.digestAt.get(index);
    if (known === undefined) {
      this.digestAt.set(index, digest);
    } else if (known !== digest) {
      throw new SafetyViolation('single history', `node ${id} state at ${index} diverges from other nodes`);
    }
  }

  /** ReadIndex: the read point must cover everything committed before the read was requested. */
  onReadState(id: number, index: number, committedAtRequest: number): void {
    this.checks++;
    if (index < committedAtRequest) {
      throw new SafetyViolation(
        'linearizable read',
        `node ${id} read at ${index} but ${committedAtRequest} was committed before the request`,
      );
    }
  }

  appliedEntry(index: number): Entry | undefined {
    return this.applied.get(index);
  }
}
