// InterProcessSemaphoreV2: at most `maxLeases` leases at once. A mutex under `path/locks` admits one acquirer at a
// time; it creates its lease node under `path/leases` and, while too many exist, waits for the lease list to change.
// Only the mutex holder watches the leases, so a released lease wakes one waiter, not all.
import type { ZkClient } from '../client.js';
import { ZkClientError } from '../errors.js';
import { createProtected, deadlineOf, deleteQuietly, joinPath, retrying, until } from './common.js';
import { Mutex } from './lock.js';

export interface Lease {
  path: string;
  release(): Promise<void>;
}

export class Semaphore {
  private readonly mutex: Mutex;
  private readonly leases: string;

  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    readonly maxLeases: number,
  ) {
    if (!Number.isInteger(maxLeases) || maxLeases < 1) throw new ZkClientError('BadArguments', `maxLeases must be a positive integer, got ${maxLeases}`);
    this.mutex = new Mutex(client, joinPath(path, 'locks'));
    this.leases = joinPath(path, 'leases');
  }

  /** A lease, or null when none came free within `timeoutMs`. The lease is an ephemeral node: it goes with the session. */
  async acquire(timeoutMs?: number): Promise<Lease | null> {
    const deadline = deadlineOf(timeoutMs);
    if (!(await this.mutex.acquire(timeoutMs))) return null;
    try {
      const path = await createProtected(this.client, this.leases, 'lease-', 'EPHEMERAL_SEQUENTIAL');
      for (;;) {
        const { state, fired } = await retrying(this.client, () => this.client.watchOnce(this.leases, 'children'));
        const held = state.children ?? [];
        if (!held.includes(path.slice(this.leases.length + 1))) {
          state.cancel();
          throw new ZkClientError('SessionExpired', `lease ${path} is gone`, { path });
        }
        if (held.length <= this.maxLeases) {
          state.cancel();
          return { path, release: () => deleteQuietly(this.client, path) };
        }
        if ((await until(fired, deadline)) === 'timeout') {
          state.cancel();
          await deleteQuietly(this.client, path);
          return null;
        }
      }
    } finally {
      await this.mutex.release();
    }
  }
}
