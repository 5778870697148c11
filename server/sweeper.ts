// Container and TTL reaping (ZooKeeper's ContainerManager): on an interval, candidates from the store's
// index are deleted through the same write path as any client delete, at most maxPerMinute a minute.
import type { Config } from './config.js';
import type { Store } from '../storage/store.js';
import type { Txn } from './tree/types.js';

/**
 * Index entries examined in one go, before the sweep yields to the event loop: at ~2.5 µs each, a few ms. A sweep
 * that read its whole share at once blocked every client for ~250 ms per 100,000 busy containers.
 */
export const SWEEP_CHUNK = 2000;

/** What one sweep may do: 20 × its share of maxPerMinute entries examined, its share of reaps. */
export function sweepBudget(cfg: Config): { scan: number; reaps: number } {
  const reaps = Math.max(1, Math.floor((cfg.containerMaxPerMinute * cfg.containerCheckIntervalMs) / 60000));
  return { scan: reaps * 20, reaps };
}

export interface SweepChunk {
  txns: Txn[];
  examined: number;
  /**
   * The last path examined when the chunk stopped before the end of the index, where the next chunk (or sweep)
   * goes on; undefined when it reached the end, so the next one starts over. Going on from there, rather than from
   * the start each time, is what gets every candidate examined however many containers and TTL nodes there are.
   */
  next: string | undefined;
}

/** Due candidates among at most `scan` index entries after `after`, at most `reaps` of them. */
export function findReapable(store: Store, cfg: Config, now: number, after: string | undefined, scan: number, reaps: number): SweepChunk {
  const txns: Txn[] = [];
  const candidates = store.specialNodes(scan, after);
  let last: string | undefined;
  let examined = 0;
  for (const { path } of candidates) {
    last = path;
    examined++;
    const n = store.getNode(path);
    if (!n || n.numChildren > 0) continue;
    const due =
      n.kind === 'container'
        ? n.cversion > 0 || (cfg.containerMaxNeverUsedIntervalMs > 0 && now - n.mtime > cfg.containerMaxNeverUsedIntervalMs)
        : n.kind === 'ttl' && now - n.mtime > n.ttlMs;
    if (!due) continue;
    txns.push({ type: 'reap', path, time: now, maxNeverUsedMs: cfg.containerMaxNeverUsedIntervalMs });
    if (txns.length >= reaps) break;
  }
  const stoppedEarly = txns.length >= reaps || candidates.length >= scan;
  return { txns, examined, next: stoppedEarly ? last : undefined };
}
