// The client's watch table: which local listeners wait on which (path, kind), and which of them an event reaches —
// the server's matching rules (ZooKeeper's data and child tables, persistentRecursive on ancestors), applied per
// registration so a listener never sees a change that is already in the state its own reply carried.
import type { WatchedEvent, WatchEventType, WatchKind } from './types.js';

export interface Registration {
  path: string;
  kind: WatchKind;
  /** Events at or below this zxid are already in the registration's state; Infinity until its reply arrives. */
  fromZxid: number;
  onEvent: (e: WatchedEvent) => void;
  /** The server could not replay what a persistent watch missed: re-read. */
  onResync?: () => void;
  /** The watch can never fire again (session expired, client closed, or cancelled by the server). */
  onGone?: (reason: Error) => void;
}

const ONE_SHOT: ReadonlySet<WatchKind> = new Set(['data', 'exists', 'children']);

export function isOneShot(kind: WatchKind): boolean {
  return ONE_SHOT.has(kind);
}

function exactHits(type: WatchEventType, kind: WatchKind): boolean {
  switch (type) {
    case 'NodeCreated':
    case 'NodeDataChanged':
      return kind !== 'children';
    case 'NodeDeleted':
      return true;
    case 'NodeChildrenChanged':
      return kind === 'children' || kind === 'persistent';
  }
}

function key(path: string, kind: WatchKind): string {
  return `${kind} ${path}`;
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  let p = path;
  while (p !== '/') {
    const i = p.lastIndexOf('/');
    p = i <= 0 ? '/' : p.slice(0, i);
    out.push(p);
  }
  return out;
}

export class WatchTable {
  private readonly byKey = new Map<string, Set<Registration>>();
  private recursive = 0;

  get size(): number {
    let n = 0;
    for (const s of this.byKey.values()) n += s.size;
    return n;
  }

  /** Distinct (path, kind) pairs the server must hold for us. */
  keys(): { path: string; kind: WatchKind }[] {
    return [...this.byKey.entries()].filter(([, s]) => s.size > 0).map(([k]) => {
      const i = k.indexOf(' ');
      return { kind: k.slice(0, i) as WatchKind, path: k.slice(i + 1) };
    });
  }

  registrations(path: string, kind: WatchKind): Registration[] {
    return [...(this.byKey.get(key(path, kind)) ?? [])];
  }

  add(r: Registration): void {
    const k = key(r.path, r.kind);
    let s = this.byKey.get(k);
    if (!s) this.byKey.set(k, (s = new Set()));
    s.add(r);
    if (r.kind === 'persistentRecursive') this.recursive++;
  }

  /** Removes `r`; true when no registration is left on its (path, kind). */
  remove(r: Registration): boolean {
    const k = key(r.path, r.kind);
    const s = this.byKey.get(k);
    if (!s?.delete(r)) return false;
    if (r.kind === 'persistentRecursive') this.recursive--;
    if (s.size > 0) return false;
    this.byKey.delete(k);
    return true;
  }

  /** Delivers an event to every registration it concerns; one-shot registrations it fires are removed first. */
  dispatch(e: WatchedEvent): void {
    const z = Number(e.zxid);
    const hit: Registration[] = [];
    const collect = (path: string, kinds: WatchKind[], exact: boolean) => {
      for (const kind of kinds) {
        if (exact && !exactHits(e.type, kind)) continue;
        for (const r of this.byKey.get(key(path, kind)) ?? []) {
          if (z > r.fromZxid) hit.push(r);
        }
      }
    };
    collect(e.path, ['data', 'exists', 'children', 'persistent', 'persistentRecursive'], true);
    if (this.recursive > 0 && e.type !== 'NodeChildrenChanged') {
      for (const a of ancestors(e.path)) collect(a, ['persistentRecursive'], false);
    }
    for (const r of hit) if (isOneShot(r.kind)) this.remove(r);
    for (const r of hit) r.onEvent(e);
  }

  resync(path: string): void {
    for (const kind of ['persistent', 'persistentRecursive'] as const) for (const r of this.registrations(path, kind)) r.onResync?.();
  }

  /** Every registration is dead (session gone or client closed). */
  clear(reason: Error): void {
    const all = [...this.byKey.values()].flatMap((s) => [...s]);
    this.byKey.clear();
    this.recursive = 0;
    for (const r of all) r.onGone?.(reason);
  }
}
