// The sequential-node queue: every element dequeued at most once, no two acknowledged enqueues given one
// name, nothing dequeued that was never enqueued, and nothing acknowledged that is neither dequeued nor still there.
import type { QueueOp } from '../history.js';
import type { Anomaly } from './registers.js';

export interface QueueFinal {
  /** Queue children at the end (name → data), read after the cluster healed. */
  children: Map<string, string>;
}

export function checkQueue(ops: QueueOp[], final: QueueFinal): { anomalies: Anomaly[]; stats: Record<string, number> } {
  const anomalies: Anomaly[] = [];
  const enq = ops.filter((o) => o.f === 'enqueue');
  const deq = ops.filter((o) => o.f === 'dequeue');
  const byPath = new Map<string, QueueOp>();
  for (const o of enq) {
    if (o.outcome !== 'ok' || !o.path) continue;
    const prev = byPath.get(o.path);
    if (prev) anomalies.push({ kind: 'duplicate-sequence', detail: `#${prev.id} and #${o.id} were both acknowledged as ${o.path}`, ops: [prev.id, o.id] });
    byPath.set(o.path, o);
  }
  const possible = new Set(enq.filter((o) => o.outcome !== 'fail').map((o) => o.value as string));
  const dequeued = new Map<string, QueueOp>();
  const maybeDequeued = new Set<string>();
  for (const o of deq) {
    if (o.value === undefined) continue;
    if (o.outcome === 'unknown') maybeDequeued.add(o.value);
    if (o.outcome !== 'ok') continue;
    if (!possible.has(o.value)) anomalies.push({ kind: 'phantom-dequeue', detail: `#${o.id} dequeued ${o.value}, never enqueued`, ops: [o.id] });
    const prev = dequeued.get(o.value);
    if (prev) anomalies.push({ kind: 'double-dequeue', detail: `${o.value} dequeued by #${prev.id} and #${o.id}`, ops: [prev.id, o.id] });
    dequeued.set(o.value, o);
  }
  const remaining = new Set(final.children.values());
  let lost = 0;
  for (const o of enq) {
    if (o.outcome !== 'ok') continue;
    const v = o.value as string;
    if (!dequeued.has(v) && !maybeDequeued.has(v) && !remaining.has(v)) {
      lost++;
      anomalies.push({ kind: 'lost-enqueue', detail: `#${o.id} enqueue ${v} as ${o.path} was acknowledged, never dequeued, and is gone`, ops: [o.id] });
    }
  }
  for (const [name, v] of final.children) {
    if (!possible.has(v)) anomalies.push({ kind: 'phantom-element', detail: `${name} holds ${v}, never enqueued` });
    const d = dequeued.get(v);
    if (d) anomalies.push({ kind: 'resurrected', detail: `${name} (${v}) is still there after #${d.id} dequeued it`, ops: [d.id] });
  }
  return {
    anomalies,
    stats: { enqueuedOk: enq.filter((o) => o.outcome === 'ok').length, dequeuedOk: dequeued.size, remaining: final.children.size, lost },
  };
}
