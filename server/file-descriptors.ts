// mntr's zk_open_file_descriptor_count and zk_max_file_descriptor_count, which ZooKeeper reports on Unix and
// monitoring plugins read. Linux's /proc gives both; elsewhere the keys are left out, as ZooKeeper leaves them out
// where its OS bean has no Unix counts.
import { readFileSync, readdirSync } from 'node:fs';

export function fileDescriptorKeys(): Record<string, number> {
  try {
    // The listing opens one descriptor of its own while it reads.
    const open = readdirSync('/proc/self/fd').length - 1;
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    const max = soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
    return max === undefined || !Number.isSafeInteger(max) ? { zk_open_file_descriptor_count: open } : { zk_open_file_descriptor_count: open, zk_max_file_descriptor_count: max };
  } catch {
    return {};
  }
}
