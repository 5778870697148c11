// Container and TTL reaping (ZooKeeper's ContainerManager): on an interval, candidates from the store's
// index are deleted through the same write path as any client delete, at most maxPerMinute a minute.
import type { Config } from './config.js';
import type { Store } from '../storage/store.js';
import type { Txn } from './tree/types.js';

export function findReapable(store: Store, cfg: Config, now: number): Txn[] {
  const perSweep = Math.max(1, Math.floor((cfg.containerMaxPerMinute * cfg.containerCheckIntervalMs) / 60000));
  const out: Txn[] = [];
  // Bound the index scan as well as the deletes, so one sweep's work is bounded.
  for (const { path } of store.specialNodes(perSweep * 20)) {
    const n = store.getNode(path);
    if (!n || n.numChildren > 0) continue;
    const due =
      n.kind === 'container'
        ? n.cversion > 0 || (cfg.containerMaxNeverUsedIntervalMs > 0 && now - n.mtime > cfg.containerMaxNeverUsedIntervalMs)
        : n.kind === 'ttl' && now - n.mtime > n.ttlMs;
    if (!due) continue;
    out.push({ type: 'reap', path, time: now, maxNeverUsedMs: cfg.containerMaxNeverUsedIntervalMs });
    if (out.length >= perSweep) break;
  }
  return out;
}
