// DistributedQueue: FIFO on PERSISTENT_SEQUENTIAL `qn-` nodes (the layout of ZooKeeper's recipe and of zkgate's
// /v1/recipes/queues endpoints, so both can feed and drain one queue). A consumer claims an element by deleting it at
// the version it read, so each element goes to exactly one consumer.
import type { ZkClient } from '../client.js';
import { isZkError } from '../errors.js';
import type { Data } from '../types.js';
import { deadlineOf, ensureDir, joinPath, retrying, sortBySeq, until } from './common.js';

export const QUEUE_PREFIX = 'qn-';

export class DistributedQueue {
  constructor(
    private readonly client: ZkClient,
    readonly path: string,
  ) {}

  /** Appends an element; returns its node's path. */
  async offer(data: Data): Promise<string> {
    for (;;) {
      try {
        return (await this.client.create(joinPath(this.path, QUEUE_PREFIX), data, { mode: 'PERSISTENT_SEQUENTIAL' })).path;
      } catch (e) {
        if (!isZkError(e, 'NoNode')) throw e;
        await ensureDir(this.client, this.path, 'PERSISTENT');
      }
    }
  }

  /** Elements waiting. */
  async size(): Promise<number> {
    try {
      return sortBySeq((await this.client.getChildren(this.path)).children, (n) => n.startsWith(QUEUE_PREFIX)).length;
    } catch (e) {
      if (isZkError(e, 'NoNode')) return 0;
      throw e;
    }
  }

  /** Takes the head now, or null when the queue is empty. */
  async poll(): Promise<Uint8Array | null> {
    let names: string[];
    try {
      names = (await retrying(this.client, () => this.client.getChildren(this.path))).children;
    } catch (e) {
      if (isZkError(e, 'NoNode')) return null;
      throw e;
    }
    return this.claimFirst(names);
  }

  /** Takes the head, waiting up to `timeoutMs` (forever when omitted) for one to arrive; null on timeout. */
  async take(timeoutMs?: number): Promise<Uint8Array | null> {
    const deadline = deadlineOf(timeoutMs);
    for (;;) {
      const armed = await retrying(this.client, () => this.client.watchOnce(this.path, 'children')).catch(async (e: unknown) => {
        if (!isZkError(e, 'NoNode')) throw e;
        await ensureDir(this.client, this.path, 'PERSISTENT');
        return null;
      });
      if (!armed) continue;
      const { state, fired } = armed;
      const got = await this.claimFirst(state.children ?? []);
      if (got) {
        state.cancel();
        return got;
      }
      if ((await until(fired, deadline)) === 'timeout') {
        state.cancel();
        return null;
      }
    }
  }

  /** Claims elements in order; one another consumer took first (NoNode, BadVersion) is skipped. */
  private async claimFirst(names: string[]): Promise<Uint8Array | null> {
    for (const name of sortBySeq(names, (n) => n.startsWith(QUEUE_PREFIX))) {
      const p = joinPath(this.path, name);
      try {
        const { data, stat } = await retrying(this.client, () => this.client.getData(p));
        await this.client.delete(p, stat.version);
        return data;
      } catch (e) {
        if (!isZkError(e, 'NoNode') && !isZkError(e, 'BadVersion')) throw e;
      }
    }
    return null;
  }
}
