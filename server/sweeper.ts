// Container and TTL reaping (ZooKeeper's ContainerManager): on an interval, candidates from the store's
// index are deleted through the same write path as any client delete, at most maxPerMinute a minute.
import type { Config } from './config.js';
import type { Store } from '../storage/store.js';
import type { Txn } from './tree/types.js';

export interface Sweep {
  txns: Txn[];
  /**
   * The last path this sweep examined when it stopped before the end of the index, where the next one goes on;
   * undefined when it reached the end, so the next one starts over.
   */
  next: string | undefined;
}

/**
 * One sweep's reaps: the due candidates among at most 20 × the sweep's share of maxPerMinute index entries after
 * `after`. Each sweep goes on from where the last stopped, so every candidate is examined within a bounded number
 * of sweeps however many containers and TTL nodes there are, while one sweep's work stays bounded.
 */
export function findReapable(store: Store, cfg: Config, now: number, after?: string): Sweep {
  const perSweep = Math.max(1, Math.floor((cfg.containerMaxPerMinute * cfg.containerCheckIntervalMs) / 60000));
  const scan = perSweep * 20;
  const txns: Txn[] = [];
  const candidates = store.specialNodes(scan, after);
  let last: string | undefined;
  for (const { path } of candidates) {
    last = path;
    const n = store.getNode(path);
    if (!n || n.numChildren > 0) continue;
    const due =
      n.kind === 'container'
        ? n.cversion > 0 || (cfg.containerMaxNeverUsedIntervalMs > 0 && now - n.mtime > cfg.containerMaxNeverUsedIntervalMs)
        : n.kind === 'ttl' && now - n.mtime > n.ttlMs;
    if (!due) continue;
    txns.push({ type: 'reap', path, time: now, maxNeverUsedMs: cfg.containerMaxNeverUsedIntervalMs });
    if (txns.length >= perSweep) break;
  }
  const stoppedEarly = txns.length >= perSweep || candidates.length >= scan;
  return { txns, next: stoppedEarly ? last : undefined };
}
