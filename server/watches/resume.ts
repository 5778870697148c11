// What a watch registered with sinceZxid missed (ZooKeeper's DataTree.setWatches rules, made exact where the change
// history allows): one-shot kinds fire at once if their node changed after sinceZxid; persistent kinds replay the
// missed events from the history, or ask for a resync when the history no longer reaches back. Either way, what
// the connection already received is not sent again, and nothing older than its newest event is sent at all.
import { parentOf } from '../tree/paths.js';
import type { NodeRecord, WatchEventType } from '../tree/types.js';
import type { DeliveredEvents } from './delivered.js';
import type { Change, ChangeHistory } from './history.js';
import type { WatchKind } from './registry.js';

export interface MissedEvent {
  type: WatchEventType;
  path: string;
  zxid: number;
}

export interface Resume {
  /** Events to send before the reply, oldest first. */
  events: MissedEvent[];
  /** The history does not reach back to sinceZxid: the client must re-read (a `resync` frame). */
  resync: boolean;
  /** False when a one-shot watch fired at once and so is not armed. */
  arm: boolean;
}

export interface ResumeInput {
  path: string;
  kind: WatchKind;
  since: number;
  /** The node now (at the zxid the watch is registered at), if it exists. */
  rec: NodeRecord | undefined;
  getNode: (path: string) => NodeRecord | undefined;
  history: ChangeHistory;
  /** READ on an ACL for the watching client; replayed events pass the same filter as live ones. */
  canRead: (c: Change) => boolean;
  /** What the watching connection has received so far. */
  delivered: Pick<DeliveredEvents, 'mark' | 'has'>;
  /** The history's changes at or below `path` after `since`, when a batch has gathered them already (forSubtrees). */
  subtree?: Change[];
}

/** pzxid of the nearest existing ancestor: any create or delete at or below a missing path after z moves it past z. */
export function ancestorPzxid(path: string, getNode: (p: string) => NodeRecord | undefined): number {
  let p = path;
  while (p !== '/') {
    p = parentOf(p);
    const n = getNode(p);
    if (n) return n.pzxid;
  }
  return 0;
}

export function lastDeletion(history: Pick<ChangeHistory, 'forPath'>, path: string, since: number): Change | undefined {
  const cs = history.forPath(path, since).filter((c) => c.type === 'NodeDeleted');
  return cs[cs.length - 1];
}

function fired(type: WatchEventType, path: string, zxid: number): Resume {
  return { events: [{ type, path, zxid }], resync: false, arm: false };
}

const ARMED: Resume = { events: [], resync: false, arm: true };

export function resume(i: ResumeInput): Resume {
  return againstDelivered(missed(i), i.delivered);
}

/**
 * A resumed watch's events against what its connection already received. ZooKeeper sends a client one notification
 * per change and triggers every watch it matches, so an event the connection already got fires a one-shot watch
 * without being sent again, and a persistent watch skips it. An event older than the connection's newest that it did
 * not get (or can no longer tell) cannot be sent in zxid order: a one-shot watch fires at the newest zxid instead
 * (the change had happened by then; telling twice beats never), a persistent watch gets a resync.
 */
function againstDelivered(r: Resume, d: ResumeInput['delivered']): Resume {
  if (r.events.every((e) => e.zxid > d.mark)) return r;
  const [e] = r.events;
  if (!r.arm && e) {
    const seen = d.has(e);
    if (seen === true) return { events: [], resync: false, arm: false };
    if (e.zxid === d.mark && seen === false) return r;
    const late = { type: e.type, path: e.path, zxid: d.mark };
    return { events: d.has(late) === true ? [] : [late], resync: false, arm: false };
  }
  const events: MissedEvent[] = [];
  for (const m of r.events) {
    const seen = m.zxid > d.mark ? false : d.has(m);
    if (seen === true) continue;
    if (seen === undefined || m.zxid < d.mark) return { events: [], resync: true, arm: true };
    events.push(m);
  }
  return { ...r, events };
}

function missed(i: ResumeInput): Resume {
  const { path, rec, since, history } = i;
  switch (i.kind) {
    case 'data':
    case 'children': {
      if (!rec) {
        // The deletion's own zxid when the history still has it; else the zxid by which it had certainly happened.
        const del = lastDeletion(history, path, since);
        return fired('NodeDeleted', path, del?.zxid ?? ancestorPzxid(path, i.getNode));
      }
      if (i.kind === 'data' && rec.mzxid > since) return fired('NodeDataChanged', path, rec.mzxid);
      if (i.kind === 'children' && rec.pzxid > since) return fired('NodeChildrenChanged', path, rec.pzxid);
      return ARMED;
    }
    case 'exists': {
      if (rec) {
        if (rec.czxid > since) return fired('NodeCreated', path, rec.czxid);
        if (rec.mzxid > since) return fired('NodeDataChanged', path, rec.mzxid);
        return ARMED;
      }
      // ZooKeeper re-arms an exists watch on a still-missing node; a create-and-delete the history saw is reported.
      const del = lastDeletion(history, path, since);
      return del && i.canRead(del) ? fired('NodeDeleted', path, del.zxid) : ARMED;
    }
    case 'persistent': {
      const last = rec ? Math.max(rec.czxid, rec.mzxid, rec.pzxid) : ancestorPzxid(path, i.getNode);
      if (last <= since) return ARMED;
      if (!history.covers(since)) return { events: [], resync: true, arm: true };
      return { events: history.forPath(path, since).filter(i.canRead), resync: false, arm: true };
    }
    case 'persistentRecursive': {
      if (!history.covers(since)) return { events: [], resync: true, arm: true };
      const events = (i.subtree ?? history.forSubtree(path, since)).filter((c) => c.type !== 'NodeChildrenChanged' && i.canRead(c));
      return { events, resync: false, arm: true };
    }
  }
}
