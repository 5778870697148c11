// Persistent watches: each watcher sees the changes of its znode in strictly increasing zxid order, and
// every change any watcher saw (or any acknowledged write made) inside the span it covered, unless a resync
// frame told it that the server could not replay a gap.
import type { RegisterOp, WatcherLog } from '../history.js';
import type { Anomaly } from './registers.js';

export function checkWatches(watchers: WatcherLog[], registerOps: RegisterOp[]): { anomalies: Anomaly[]; stats: Record<string, number> } {
  const anomalies: Anomaly[] = [];
  const changes = new Map<string, Map<number, string>>();
  const note = (key: string, zxid: number, event: string, who: string) => {
    const m = changes.get(key) ?? new Map<number, string>();
    changes.set(key, m);
    const prev = m.get(zxid);
    if (prev !== undefined && prev !== event && event !== '?' && prev !== '?') anomalies.push({ kind: 'watch-event-mismatch', detail: `${key} zxid ${zxid}: ${prev} elsewhere, ${event} from ${who}` });
    if (prev === undefined || prev === '?') m.set(zxid, event);
  };
  for (const o of registerOps) {
    if (o.outcome !== 'ok' || o.mzxid === undefined) continue;
    if (o.f === 'create') note(o.key, o.mzxid, 'NodeCreated', `#${o.id}`);
    if (o.f === 'set') note(o.key, o.mzxid, 'NodeDataChanged', `#${o.id}`);
  }
  for (const w of watchers) for (const e of w.events) if (e.kind === 'event') note(w.key, e.zxid, e.event as string, `watcher ${w.watcher}`);
  let delivered = 0;
  let resyncs = 0;
  for (const w of watchers) {
    let last = -1;
    // Spans [from, to] of zxids this watcher is accountable for: from each establishment to the next one.
    const excused: [number, number][] = [];
    let pendingResync = false;
    let covered: [number, number][] = [];
    let open: number | undefined;
    for (const e of w.events) {
      if (e.kind === 'resync') {
        pendingResync = true;
        resyncs++;
        continue;
      }
      if (e.kind === 'established') {
        // A resumed watch (sinceZxid = last) replays everything after `last`; a resync excuses the gap.
        if (pendingResync) excused.push([last + 1, e.zxid]);
        pendingResync = false;
        if (open === undefined) open = e.zxid + 1;
        last = Math.max(last, e.zxid);
        continue;
      }
      delivered++;
      if (e.zxid <= last && !excused.some(([a, b]) => e.zxid >= a && e.zxid <= b)) {
        anomalies.push({ kind: 'watch-out-of-order', detail: `watcher ${w.watcher} on ${w.key}: ${e.event} at zxid ${e.zxid} after ${last}` });
      }
      last = Math.max(last, e.zxid);
    }
    if (open !== undefined && w.endZxid !== undefined) covered = [[open, w.endZxid]];
    if (open !== undefined && w.endZxid === undefined) anomalies.push({ kind: 'watcher-stalled', detail: `watcher ${w.watcher} on ${w.key} never caught up with the final state` });
    const seen = new Set(w.events.filter((e) => e.kind === 'event').map((e) => e.zxid));
    for (const [zxid, event] of changes.get(w.key) ?? []) {
      if (!covered.some(([a, b]) => zxid >= a && zxid <= b)) continue;
      if (excused.some(([a, b]) => zxid >= a && zxid <= b)) continue;
      if (!seen.has(zxid)) anomalies.push({ kind: 'watch-missed', detail: `watcher ${w.watcher} on ${w.key} missed ${event} at zxid ${zxid} (covered ${covered.map(([a, b]) => `${a}..${b}`).join(',')})` });
    }
  }
  return { anomalies, stats: { watchers: watchers.length, delivered, resyncs } };
}
