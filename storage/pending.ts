// Writes that are durable in the write-ahead log and applied, but not yet committed to LMDB: what reads see
// on top of LMDB until the LMDB transaction that carries them commits. Each entry remembers the group that
// wrote it last, so a group's commit drops only the entries no later group has overwritten. The layer is
// small by construction: LMDB commits everything queued at once, and the pipeline stops feeding it beyond
// a bound (see WritePipeline).
import type { Database } from 'lmdb';
import type { NodeKind, NodeRecord, SessionRecord } from './records.js';
import type { Counter } from './view.js';
import { parentOf } from '../server/tree/paths.js';

interface Entry<V> {
  value: V | null;
  gen: number;
}

/** One group's writes, in the form the LMDB transaction replays. */
export interface GroupWrites {
  gen: number;
  nodes: Map<string, NodeRecord | null>;
  sessions: Map<string, SessionRecord | null>;
  ephemerals: Map<string, { id: string; path: string; present: boolean }>;
  special: Map<string, NodeKind | null>;
  /** Final values of the counters the group changed. */
  counters: Map<Counter, number>;
  lastZxid: number | undefined;
  /**
   * Writes of others sharing the environment (the consensus log), by database and key, null for a removal. Not
   * seen by the store's reads: their owner keeps what it needs until the group commits (RaftLog's unwritten).
   */
  raw: Map<RawDb, Map<RawKey, unknown>>;
  /** Transactions applied in the group (for the bound). */
  txns: number;
}

export type RawKey = string | number;
export type RawDb = Database<unknown, RawKey>;

function emptyGroup(gen: number): GroupWrites {
  return { gen, nodes: new Map(), sessions: new Map(), ephemerals: new Map(), special: new Map(), counters: new Map(), lastZxid: undefined, raw: new Map(), txns: 0 };
}

/** A raw write made now, into the LMDB transaction under way (null removes the key). */
export function writeRaw(db: RawDb, key: RawKey, value: unknown): void {
  void (value === null ? db.remove(key) : db.put(key, value));
}

/** Records a raw write in `g` (null removes the key). */
export function putRaw(g: GroupWrites, db: RawDb, key: RawKey, value: unknown): void {
  let m = g.raw.get(db);
  if (!m) g.raw.set(db, (m = new Map()));
  m.set(key, value);
}

export class PendingLayer {
  readonly nodes = new Map<string, Entry<NodeRecord>>();
  /** parent path → child paths that have an entry in `nodes`. */
  readonly children = new Map<string, Set<string>>();
  readonly sessions = new Map<string, Entry<SessionRecord>>();
  /** session id → ephemeral path → present? */
  readonly ephemerals = new Map<string, Map<string, Entry<boolean>>>();
  readonly special = new Map<string, Entry<NodeKind>>();
  readonly counters = new Map<Counter, Entry<number>>();
  lastZxid: Entry<number> | null = null;
  /** Transactions applied here and not yet committed to LMDB. */
  txns = 0;
  private nextGen = 1;

  newGroup(): GroupWrites {
    return emptyGroup(this.nextGen++);
  }

  putNode(g: GroupWrites, path: string, rec: NodeRecord | null): void {
    g.nodes.set(path, rec);
    this.nodes.set(path, { value: rec, gen: g.gen });
    if (path === '/') return;
    const parent = parentOf(path);
    let set = this.children.get(parent);
    if (!set) this.children.set(parent, (set = new Set()));
    set.add(path);
  }

  putSession(g: GroupWrites, id: string, rec: SessionRecord | null): void {
    g.sessions.set(id, rec);
    this.sessions.set(id, { value: rec, gen: g.gen });
  }

  setEphemeral(g: GroupWrites, id: string, path: string, present: boolean): void {
    g.ephemerals.set(id + '\u0000' + path, { id, path, present });
    let m = this.ephemerals.get(id);
    if (!m) this.ephemerals.set(id, (m = new Map()));
    m.set(path, { value: present, gen: g.gen });
  }

  setSpecial(g: GroupWrites, path: string, kind: NodeKind | null): void {
    g.special.set(path, kind);
    this.special.set(path, { value: kind, gen: g.gen });
  }

  /** Counters are kept as values, not deltas, so a read between LMDB's commit and `committed` cannot count twice. */
  setCounter(g: GroupWrites, c: Counter, value: number): void {
    g.counters.set(c, value);
    this.counters.set(c, { value, gen: g.gen });
  }

  setLastZxid(g: GroupWrites, zxid: number): void {
    g.lastZxid = zxid;
    this.lastZxid = { value: zxid, gen: g.gen };
  }

  /** The group is in LMDB now: drop what it wrote unless a later group wrote it again. */
  committed(g: GroupWrites): void {
    for (const path of g.nodes.keys()) {
      if (this.nodes.get(path)?.gen !== g.gen) continue;
      this.nodes.delete(path);
      if (path === '/') continue;
      const parent = parentOf(path);
      const set = this.children.get(parent);
      set?.delete(path);
      if (set?.size === 0) this.children.delete(parent);
    }
    for (const id of g.sessions.keys()) if (this.sessions.get(id)?.gen === g.gen) this.sessions.delete(id);
    for (const e of g.ephemerals.values()) {
      const m = this.ephemerals.get(e.id);
      if (m?.get(e.path)?.gen !== g.gen) continue;
      m.delete(e.path);
      if (m.size === 0) this.ephemerals.delete(e.id);
    }
    for (const path of g.special.keys()) if (this.special.get(path)?.gen === g.gen) this.special.delete(path);
    for (const c of g.counters.keys()) if (this.counters.get(c)?.gen === g.gen) this.counters.delete(c);
    if (this.lastZxid?.gen === g.gen) this.lastZxid = null;
    this.txns -= g.txns;
  }
}

/** The writes of consecutive groups as one: later groups' values win, as they would replayed in order. */
export function mergeGroups(groups: GroupWrites[]): GroupWrites {
  if (groups.length === 1) return groups[0] as GroupWrites;
  const out = emptyGroup(0);
  for (const g of groups) {
    for (const [k, v] of g.nodes) out.nodes.set(k, v);
    for (const [k, v] of g.sessions) out.sessions.set(k, v);
    for (const [k, v] of g.ephemerals) out.ephemerals.set(k, v);
    for (const [k, v] of g.special) out.special.set(k, v);
    for (const [k, v] of g.counters) out.counters.set(k, v);
    for (const [db, m] of g.raw) for (const [k, v] of m) putRaw(out, db, k, v);
    if (g.lastZxid !== undefined) out.lastZxid = g.lastZxid;
    out.txns += g.txns;
  }
  return out;
}
