// The watch table (ZooKeeper's WatchManager): which watcher holds which kinds on which path, and which watchers a
// trigger fires — exact-path kinds by lookup, persistentRecursive by walking the changed path's ancestors.
import { isWithin, parentOf } from '../tree/paths.js';
import type { WatchEventType } from '../tree/types.js';

export type WatchKind = 'data' | 'exists' | 'children' | 'persistent' | 'persistentRecursive';
export const WATCH_KINDS: readonly WatchKind[] = ['data', 'exists', 'children', 'persistent', 'persistentRecursive'];

const BIT: Record<WatchKind, number> = { data: 1, exists: 2, children: 4, persistent: 8, persistentRecursive: 16 };
const DATA_ONE_SHOT = BIT.data | BIT.exists;
const CHILD_ONE_SHOT = BIT.children;
/** The one-shot kinds of each table, for fire's `spare`. */
export const ONE_SHOT = { data: DATA_ONE_SHOT, child: CHILD_ONE_SHOT } as const;
/** Kinds in ZooKeeper's data table: fired by NodeCreated, NodeDataChanged and NodeDeleted on the path. */
const DATA_TABLE = BIT.data | BIT.exists | BIT.persistent | BIT.persistentRecursive;
/** Kinds in ZooKeeper's child table: fired by NodeChildrenChanged and NodeDeleted (recursive ones never by NodeChildrenChanged). */
const CHILD_TABLE = BIT.children | BIT.persistent;

export function kindsOf(bits: number): WatchKind[] {
  return WATCH_KINDS.filter((k) => bits & BIT[k]);
}

/** Bits of `bits` an event of `type` on the watched path itself fires, and the one-shot bits it consumes. */
function exactMatch(type: WatchEventType, bits: number): { hit: number; consume: number } {
  switch (type) {
    case 'NodeCreated':
    case 'NodeDataChanged':
      return { hit: bits & DATA_TABLE, consume: bits & DATA_ONE_SHOT };
    case 'NodeDeleted':
      return { hit: bits, consume: bits & (DATA_ONE_SHOT | CHILD_ONE_SHOT) };
    case 'NodeChildrenChanged':
      return { hit: bits & CHILD_TABLE, consume: bits & CHILD_ONE_SHOT };
  }
}

/** A path's only watcher, held inline: most watched paths have exactly one, and a Map per path costs ~4× this. */
class Sole<W> {
  constructor(
    readonly w: W,
    public bits: number,
  ) {}
}

/** The watchers of one path and their kinds: one inline, or a Map once a second watcher arrives. */
type PathWatchers<W> = Sole<W> | Map<W, number>;

export class WatchRegistry<W> {
  private readonly byPath = new Map<string, PathWatchers<W>>();
  private readonly byWatcher = new Map<W, Map<string, number>>();
  /** persistentRecursive watches per path, so triggers walk ancestors only when any exist. */
  private readonly recursiveAt = new Map<string, number>();
  /** Registered (watcher, path, kind) triples. */
  count = 0;

  get pathCount(): number {
    return this.byPath.size;
  }

  get watcherCount(): number {
    return this.byWatcher.size;
  }

  countOf(w: W): number {
    let n = 0;
    for (const bits of this.byWatcher.get(w)?.values() ?? []) n += popcount(bits);
    return n;
  }

  has(w: W, path: string, kind: WatchKind): boolean {
    return ((this.byWatcher.get(w)?.get(path) ?? 0) & BIT[kind]) !== 0;
  }

  /** Adds the watch; false when it was already there (a watch set twice is one watch, as in ZooKeeper). */
  add(w: W, path: string, kind: WatchKind): boolean {
    const old = this.byWatcher.get(w)?.get(path) ?? 0;
    if (old & BIT[kind]) return false;
    this.setBits(w, path, old, old | BIT[kind]);
    return true;
  }

  remove(w: W, path: string, kind: WatchKind): boolean {
    const old = this.byWatcher.get(w)?.get(path) ?? 0;
    if (!(old & BIT[kind])) return false;
    this.setBits(w, path, old, old & ~BIT[kind]);
    return true;
  }

  removeAll(w: W): void {
    const paths = this.byWatcher.get(w);
    if (!paths) return;
    for (const [path, bits] of [...paths]) this.setBits(w, path, bits, 0);
  }

  /**
   * Watchers an event of `type` on `path` reaches, each once; one-shot watches it fires are removed. `spare`: one-shot
   * kinds (ONE_SHOT) this trigger neither fires nor spends (hub.ts: a multi's repeated events).
   */
  fire(type: WatchEventType, path: string, spare = 0): Iterable<W> {
    // Exact-path watchers are distinct, so an array will do unless recursive watchers above may repeat them.
    const out: W[] = [];
    const exact = this.byPath.get(path);
    if (exact instanceof Map) for (const [w, bits] of exact) this.fireExact(type, path, w, bits, out, spare);
    else if (exact) this.fireExact(type, path, exact.w, exact.bits, out, spare);
    if (this.recursiveAt.size === 0 || type === 'NodeChildrenChanged' || path === '/') return out;
    let all: Set<W> | undefined;
    const add = (root: string) => {
      all ??= new Set(out);
      for (const [w, bits] of this.watchersOf(root)) if (bits & BIT.persistentRecursive) all.add(w);
    };
    // The recursive watch roots above `path`: from the roots when they are fewer than its ancestors. Walking the
    // ancestors builds each one's path, which for a path ~950 levels deep made every trigger cost ~0.5 ms, and a
    // create with ?parents of it (1,900 triggers) a second.
    if (this.recursiveAt.size < depthOf(path)) {
      for (const root of this.recursiveAt.keys()) if (root !== path && isWithin(path, root)) add(root);
      return all ?? out;
    }
    let p = path;
    do {
      p = parentOf(p);
      if (this.recursiveAt.has(p)) add(p);
    } while (p !== '/');
    return all ?? out;
  }

  private fireExact(type: WatchEventType, path: string, w: W, bits: number, out: W[], spare: number): void {
    const { hit, consume } = exactMatch(type, bits & ~spare);
    if (!hit) return;
    out.push(w);
    if (consume) this.setBits(w, path, bits, bits & ~consume);
  }

  /** Every watch of `w`, path → kinds. */
  watchesOf(w: W): Map<string, number> {
    return this.byWatcher.get(w) ?? new Map();
  }

  /** Every watcher of `path` with its kinds. */
  watchersOf(path: string): Iterable<[W, number]> {
    const pw = this.byPath.get(path);
    return pw instanceof Map ? pw : pw ? [[pw.w, pw.bits]] : [];
  }

  paths(): IterableIterator<string> {
    return this.byPath.keys();
  }

  watchers(): IterableIterator<W> {
    return this.byWatcher.keys();
  }

  private setBits(w: W, path: string, old: number, bits: number): void {
    this.count += popcount(bits) - popcount(old);
    const delta = Number((bits & BIT.persistentRecursive) !== 0) - Number((old & BIT.persistentRecursive) !== 0);
    if (delta !== 0) {
      const n = (this.recursiveAt.get(path) ?? 0) + delta;
      if (n > 0) this.recursiveAt.set(path, n);
      else this.recursiveAt.delete(path);
    }
    this.write(w, path, bits);
  }

  private write(w: W, path: string, bits: number): void {
    let paths = this.byWatcher.get(w);
    if (bits === 0) {
      paths?.delete(path);
      if (paths?.size === 0) this.byWatcher.delete(w);
    } else {
      if (!paths) this.byWatcher.set(w, (paths = new Map()));
      paths.set(path, bits);
    }
    this.writePath(w, path, bits);
  }

  private writePath(w: W, path: string, bits: number): void {
    const pw = this.byPath.get(path);
    if (pw instanceof Map) {
      if (bits !== 0) pw.set(w, bits);
      else if (pw.delete(w) && pw.size === 1) {
        const [only] = pw;
        if (only) this.byPath.set(path, new Sole(only[0], only[1]));
      }
    } else if (pw && pw.w !== w) {
      if (bits !== 0) this.byPath.set(path, new Map([[pw.w, pw.bits], [w, bits]]));
    } else if (bits === 0) this.byPath.delete(path);
    else if (pw) pw.bits = bits;
    else this.byPath.set(path, new Sole(w, bits));
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x; x &= x - 1) c++;
  return c;
}

/** How many ancestors `path` has ("/a/b": "/a" and "/"). */
function depthOf(path: string): number {
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) n++;
  return n;
}
