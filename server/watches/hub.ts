// Watch delivery: follows the node's commits (zxid order, before write responses), fires the registry's watches
// with ZooKeeper's ACL filter, feeds the change history and blocking reads, and registers watches atomically
// with the read their reply carries.
import { ZkError } from '../errors.js';
import { listChildren, takeNames } from '../children-listing.js';
import { aclAllows } from '../tree/acl.js';
import { PERM_BITS, type AuthId, type NodeRecord, type Trigger } from '../tree/types.js';
import type { Committed } from '../pipeline.js';
import type { ZkNode } from '../node.js';
import { BlockingReads } from './blocking.js';
import type { DeliveredEvents, EventId } from './delivered.js';
import { ChangeHistory, type Change } from './history.js';
import { ONE_SHOT, WatchRegistry, type WatchKind } from './registry.js';
import { resume, type MissedEvent } from './resume.js';

/** One watching client (a WebSocket connection). */
export interface WatchSink {
  readonly auth: AuthId[];
  /** What this sink has received, so watches resumed on it send nothing twice and nothing out of zxid order. */
  readonly delivered: DeliveredEvents;
  /** Sends event `e` as `frame`, a complete WebSocket frame (the same bytes go to every sink the event reaches). */
  deliver(e: EventId, frame: Buffer): void;
  /** The session this sink is bound to has ended; its events for that commit were delivered first. */
  sessionEnded(reason: 'closed' | 'expired'): void;
}

export interface WatchState {
  /** The zxid the state was read at and the watch armed at: every later change is delivered. */
  zxid: number;
  rec: NodeRecord | undefined;
  children?: string[];
  /** Missed events (sinceZxid), to send before the reply. */
  missed: MissedEvent[];
  resync: boolean;
}

/**
 * An unmasked, unfragmented WebSocket text frame (RFC 6455 §5.2) around `payload`. Fan-out builds it once per event
 * and writes the same bytes to every socket, instead of framing (and writing header and payload) per connection.
 */
export function wsTextFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + n);
  out[0] = 0x81; // FIN + opcode 1 (text)
  if (head === 2) out[1] = n;
  else if (head === 4) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(out, head);
  return out;
}

/** An event as the WebSocket frame every watcher it reaches receives. */
export function eventFrame(type: Trigger['type'], path: string, zxid: number): Buffer {
  return wsTextFrame(Buffer.from(JSON.stringify({ type: 'event', event: type, path, zxid: String(zxid) })));
}

export class WatchHub<S extends WatchSink> {
  readonly registry = new WatchRegistry<S>();
  readonly history: ChangeHistory;
  readonly blocking: BlockingReads;
  private readonly bySession = new Map<string, Set<S>>();
  private afterCommit = new Set<() => void>();

  constructor(private readonly node: ZkNode) {
    const cfg = node.cfg;
    this.history = new ChangeHistory(cfg.watchHistoryMaxEvents, node.appliedZxid);
    this.blocking = new BlockingReads(
      { maxWaitMs: cfg.blockingReadMaxWaitMs, maxWaiters: cfg.maxBlockingReads },
      (p) => node.store.getNode(p),
      this.history,
    );
    node.on('committed', (batch: Committed[]) => this.onCommitted(batch));
    node.watchCounter = () => this.registry.count;
  }

  /**
   * True when the store's read snapshot is exactly the state of the last announced commit. LMDB makes a commit
   * readable a moment before its 'committed' event runs; a watch armed in that window would see the change in its
   * reply and again as an event, so registration waits for the announcement (afterNextCommit).
   */
  private consistent(): boolean {
    return this.node.store.lastZxid() <= this.node.appliedZxid;
  }

  /**
   * Runs `cb` synchronously right after the next commit's events went out, when the snapshot is consistent. Returns
   * its cancellation: a waiter that gives up first must not stay here until some commit comes.
   */
  afterNextCommit(cb: () => void): () => void {
    this.afterCommit.add(cb);
    return () => this.afterCommit.delete(cb);
  }

  /**
   * Reads the node and arms the watch in one synchronous step (no commit can fall between them), or 'defer' when
   * that cannot be done right now. Throws ZkError for what the client must be told.
   */
  watch(sink: S, path: string, kind: WatchKind, since: number | undefined, subtree?: Change[]): WatchState | 'defer' {
    this.node.requireCurrentTree();
    if (!this.ready(since)) return 'defer';
    const zxid = this.node.appliedZxid;
    const store = this.node.store;
    const rec = store.getNode(path);
    if (rec && !aclAllows(rec.acl, PERM_BITS.r, sink.auth)) throw new ZkError('NoAuth', undefined, { path });
    if (!rec && since === undefined && (kind === 'data' || kind === 'children')) throw new ZkError('NoNode', undefined, { path });
    const max = this.node.cfg.wsMaxWatchesPerConnection;
    if (!this.registry.has(sink, path, kind) && this.registry.countOf(sink) >= max) {
      throw new ZkError('BadArguments', `this connection already holds ${max} watches (wsMaxWatchesPerConnection)`, { path });
    }
    const r =
      since === undefined
        ? { events: [], resync: false, arm: true }
        : resume({
            path,
            kind,
            since,
            rec,
            getNode: (p) => store.getNode(p),
            history: this.history,
            canRead: (c) => aclAllows(c.acl, PERM_BITS.r, sink.auth),
            delivered: sink.delivered,
            subtree,
          });
    const children = rec && kind !== 'data' && kind !== 'exists' ? this.childrenFor(path, kind) : undefined;
    if (r.arm) this.registry.add(sink, path, kind);
    return { zxid, rec, children, missed: r.events.map((e) => ({ type: e.type, path: e.path, zxid: e.zxid })), resync: r.resync };
  }

  /**
   * The children a reply carries, bounded as getChildren's answer is (children-listing.ts): a `children` watch that
   * cannot carry them fails as getChildren would, before it is armed; a persistent one is armed without them.
   */
  private childrenFor(path: string, kind: WatchKind): string[] | undefined {
    const read = (limit: number, after?: string) => this.node.store.childNames(path, limit, after);
    if (kind === 'children') return listChildren(path, read, this.node.cfg.juteMaxBuffer).children;
    const r = takeNames(read, this.node.cfg.juteMaxBuffer);
    return r.more ? undefined : r.names;
  }

  /** Whether watch() can answer now: this node has applied `since`, and no apply is half-visible. */
  ready(since: number | undefined): boolean {
    return (since === undefined || since <= this.node.appliedZxid) && this.consistent();
  }

  unwatch(sink: S, path: string, kind: WatchKind): boolean {
    return this.registry.remove(sink, path, kind);
  }

  bind(sink: S, sessionId: string): void {
    let set = this.bySession.get(sessionId);
    if (!set) this.bySession.set(sessionId, (set = new Set()));
    set.add(sink);
  }

  unbind(sink: S, sessionId: string): void {
    const set = this.bySession.get(sessionId);
    if (set?.delete(sink) && set.size === 0) this.bySession.delete(sessionId);
  }

  /** Forgets everything about a sink that has gone. */
  drop(sink: S): void {
    this.registry.removeAll(sink);
  }

  private onCommitted(batch: Committed[]): void {
    for (const c of batch) {
      const triggers = c.result.triggers;
      const once = onceEach(triggers);
      if (once === triggers) for (const t of triggers) this.fire(t, c.zxid, 0);
      else {
        const first = firstOfEachTable(triggers);
        for (const t of once) this.fire(t, c.zxid, spared(first, t));
      }
      for (const e of c.result.endedSessions ?? []) {
        for (const s of [...(this.bySession.get(e.id) ?? [])]) s.sessionEnded(e.reason);
        this.bySession.delete(e.id);
      }
    }
    if (this.afterCommit.size === 0) return;
    const cbs = this.afterCommit;
    this.afterCommit = new Set();
    for (const cb of cbs) cb();
  }

  private fire(t: Trigger, zxid: number, spare: number): void {
    const change = { zxid, type: t.type, path: t.path, acl: t.acl };
    this.history.record(change);
    this.blocking.notify(t.type, t.path);
    if (this.registry.count === 0) return;
    let frame: Buffer | undefined;
    for (const s of this.registry.fire(t.type, t.path, spare)) {
      // ZooKeeper 3.8.4+ (CVE-2024-23944): no event without READ on the node's ACL; the one-shot watch is spent.
      if (aclAllows(t.acl, PERM_BITS.r, s.auth)) s.deliver(change, (frame ??= eventFrame(t.type, t.path, zxid)));
    }
  }
}

/**
 * A transaction's triggers with each (type, path) once, at the place it last fired: a multi that creates two children
 * of one parent, or a recursive delete, changes the parent's children once as far as any reader can see, and a
 * connection gets one event per (zxid, path, type). The last place, so that a node's last event agrees with the state
 * the transaction leaves (create, delete, create of one path ends on NodeCreated), with the last one's ACL.
 */
function onceEach(triggers: Trigger[]): Trigger[] {
  if (!repeats(triggers)) return triggers;
  // Where each (type, path) fires last, then the triggers found there, in order. Not a Map re-inserted at each
  // repeat: V8's Map keeps a deleted entry until it rehashes, and a key deleted and set again at every step (the
  // parent's NodeChildrenChanged in a session close of 100,000 ephemerals) made that quadratic, seconds long.
  const keys = triggers.map((t) => `${t.type} ${t.path}`);
  const lastAt = new Map<string, number>();
  keys.forEach((k, i) => lastAt.set(k, i));
  return triggers.filter((_, i) => lastAt.get(keys[i] as string) === i);
}

const DATA_EVENTS = new Set<Trigger['type']>(['NodeCreated', 'NodeDataChanged', 'NodeDeleted']);
const CHILD_EVENTS = new Set<Trigger['type']>(['NodeChildrenChanged', 'NodeDeleted']);

/** Per path, the first event of ZooKeeper's data table and of its child table in a transaction's triggers, in op order. */
function firstOfEachTable(triggers: Trigger[]): { data: Map<string, Trigger['type']>; child: Map<string, Trigger['type']> } {
  const data = new Map<string, Trigger['type']>();
  const child = new Map<string, Trigger['type']>();
  for (const t of triggers) {
    if (DATA_EVENTS.has(t.type) && !data.has(t.path)) data.set(t.path, t.type);
    if (CHILD_EVENTS.has(t.type) && !child.has(t.path)) child.set(t.path, t.type);
  }
  return { data, child };
}

/**
 * One-shot kinds a deduplicated trigger must not spend. onceEach moves each event to where it last happened, so a
 * multi that creates, deletes and creates a path fires NodeDeleted before NodeCreated; ZooKeeper, firing op by op,
 * spends a one-shot watch on the first: an `exists` watch on the missing path gets NodeCreated. Here a one-shot of a
 * table is spent only by the event that came first in that table for the path.
 */
function spared(first: ReturnType<typeof firstOfEachTable>, t: Trigger): number {
  let spare = 0;
  if (DATA_EVENTS.has(t.type) && first.data.get(t.path) !== t.type) spare |= ONE_SHOT.data;
  if (CHILD_EVENTS.has(t.type) && first.child.get(t.path) !== t.type) spare |= ONE_SHOT.child;
  return spare;
}

/**
 * Whether any (type, path) fires twice. Every create and delete has two triggers (the node's, its parent's children),
 * so this runs on nearly every write: a pairwise look for the short lists those are, no keys built, no map.
 */
function repeats(triggers: Trigger[]): boolean {
  if (triggers.length > 8) return true;
  for (let i = 1; i < triggers.length; i++) {
    const t = triggers[i] as Trigger;
    for (let j = 0; j < i; j++) {
      const u = triggers[j] as Trigger;
      if (t.type === u.type && t.path === u.path) return true;
    }
  }
  return false;
}
