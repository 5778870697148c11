// mntr's zk_open_file_descriptor_count and zk_max_file_descriptor_count, which ZooKeeper reports on Unix and
// monitoring plugins read. Linux's /proc gives both; elsewhere the keys are left out, as ZooKeeper leaves them out
// where its OS bean has no Unix counts.
import { readFileSync, readdirSync } from 'node:fs';

export function fileDescriptorKeys(): Record<string, number> {
  try {
    // The listing opens one descriptor of its own while it reads.
    const open = readdirSync('/proc/self/fd').length - 1;
    const max = fileDescriptorLimit();
    return max === undefined ? { zk_open_file_descriptor_count: open } : { zk_open_file_descriptor_count: open, zk_max_file_descriptor_count: max };
  } catch {
    return {};
  }
}

/** The process's soft limit on open files (Node raises it to the hard limit at start); undefined if unknown. */
export function fileDescriptorLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    const max = soft === undefined || soft === 'unlimited' ? NaN : Number(soft);
    return Number.isSafeInteger(max) ? max : undefined;
  } catch {
    return undefined;
  }
}

let atStart: { limit: number | undefined } | undefined;

/**
 * The limit as the server's bounds take it: read once, on first use (the server's start), not by every module load
 * (client commands load the config too). mntr reads the limit afresh.
 */
export function startLimit(): number | undefined {
  atStart ??= { limit: fileDescriptorLimit() };
  return atStart.limit;
}

/**
 * Client connections the client port may hold within `fdLimit` descriptors: the rest are kept for what the node
 * itself opens (LMDB, the write-ahead log's segments, peer links, the metrics port, a snapshot). Without this, idle
 * connections could take the last descriptor and the log's next segment failed to open: a storage failure, exit 70.
 */
export function connectionsWithinFds(limit: number, fdLimit: number | undefined, otherPorts = 0): number {
  if (fdLimit === undefined) return limit;
  const reserve = Math.min(512, Math.max(48, Math.floor(fdLimit / 4))) + otherPorts;
  return Math.max(1, Math.min(limit, fdLimit - reserve));
}

/** Connections the metrics port holds at most: a scraper and a health checker or two (server/monitor.ts). */
export const METRICS_PORT_CONNECTIONS = 256;
