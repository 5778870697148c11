// The tree view apply works against, and an overlay that makes a transaction all-or-nothing.
import type { NodeKind, NodeRecord, SessionRecord } from './records.js';
import { parentOf } from '../server/tree/paths.js';

export type Counter = 'znodes' | 'dataBytes' | 'ephemerals';
const COUNTERS: readonly Counter[] = ['znodes', 'dataBytes', 'ephemerals'];

/** Everything apply may read or write. Implemented over an LMDB write transaction and over an overlay. */
export interface TreeView {
  getNode(path: string): NodeRecord | undefined;
  putNode(path: string, rec: NodeRecord): void;
  removeNode(path: string): void;
  /** Names of the children of `path`, sorted by UTF-8 bytes. */
  childNames(path: string): string[];
  getSession(id: string): SessionRecord | undefined;
  putSession(rec: SessionRecord): void;
  removeSession(id: string): void;
  /** Paths of the session's ephemerals, sorted. */
  sessionEphemerals(id: string): string[];
  addEphemeral(sessionId: string, path: string): void;
  removeEphemeral(sessionId: string, path: string): void;
  /** Index of container and TTL nodes so sweeps never scan the tree. */
  setSpecial(path: string, kind: NodeKind | null): void;
  bump(counter: Counter, delta: number): void;
}

/** Order of names as LMDB keys sort them: by UTF-8 bytes (UTF-16 order differs above the BMP). */
export function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Buffers writes over a base view; `commit()` replays them. A failed multi simply drops its overlay,
 * which is how a transaction that fails half-way leaves no trace (lmdb-js does not roll back a throw).
 */
export class OverlayView implements TreeView {
  // One overlay per applied transaction: the maps most transactions never touch are made on first write.
  private nodes = new Map<string, NodeRecord | null>();
  private sessions: Map<string, SessionRecord | null> | undefined;
  private ephemerals: Map<string, { id: string; path: string; present: boolean }> | undefined;
  private special: Map<string, NodeKind | null> | undefined;
  private counters: Record<Counter, number> = { znodes: 0, dataBytes: 0, ephemerals: 0 };

  constructor(private readonly base: TreeView) {}

  getNode(path: string): NodeRecord | undefined {
    const v = this.nodes.get(path);
    if (v !== undefined) return v ?? undefined;
    return this.base.getNode(path);
  }
  putNode(path: string, rec: NodeRecord): void {
    this.nodes.set(path, rec);
  }
  removeNode(path: string): void {
    this.nodes.set(path, null);
  }
  childNames(path: string): string[] {
    const names = new Set(this.base.childNames(path));
    let touched = false;
    for (const [p, rec] of this.nodes) {
      if (p === '/' || parentOf(p) !== path) continue;
      touched = true;
      const name = p.slice(p.lastIndexOf('/') + 1);
      if (rec) names.add(name);
      else names.delete(name);
    }
    const out = [...names];
    return touched ? out.sort(byUtf8) : out;
  }
  getSession(id: string): SessionRecord | undefined {
    const v = this.sessions?.get(id);
    if (v !== undefined) return v ?? undefined;
    return this.base.getSession(id);
  }
  putSession(rec: SessionRecord): void {
    (this.sessions ??= new Map()).set(rec.id, rec);
  }
  removeSession(id: string): void {
    (this.sessions ??= new Map()).set(id, null);
  }
  sessionEphemerals(id: string): string[] {
    const set = new Set(this.base.sessionEphemerals(id));
    for (const e of this.ephemerals?.values() ?? []) {
      if (e.id !== id) continue;
      if (e.present) set.add(e.path);
      else set.delete(e.path);
    }
    return [...set].sort(byUtf8);
  }
  addEphemeral(sessionId: string, path: string): void {
    (this.ephemerals ??= new Map()).set(sessionId + '\u0000' + path, { id: sessionId, path, present: true });
  }
  removeEphemeral(sessionId: string, path: string): void {
    (this.ephemerals ??= new Map()).set(sessionId + '\u0000' + path, { id: sessionId, path, present: false });
  }
  setSpecial(path: string, kind: NodeKind | null): void {
    (this.special ??= new Map()).set(path, kind);
  }
  bump(counter: Counter, delta: number): void {
    this.counters[counter] += delta;
  }

  /** Replays the buffered writes onto the base, in an order that keeps the base's invariants simple. */
  commit(): void {
    for (const [p, rec] of this.nodes) {
      if (rec) this.base.putNode(p, rec);
      else this.base.removeNode(p);
    }
    for (const [id, rec] of this.sessions ?? []) {
      if (rec) this.base.putSession(rec);
      else this.base.removeSession(id);
    }
    for (const e of this.ephemerals?.values() ?? []) {
      if (e.present) this.base.addEphemeral(e.id, e.path);
      else this.base.removeEphemeral(e.id, e.path);
    }
    for (const [p, kind] of this.special ?? []) this.base.setSpecial(p, kind);
    for (const c of COUNTERS) if (this.counters[c] !== 0) this.base.bump(c, this.counters[c]);
  }
}
