// Locks on sequential ephemeral nodes, ZooKeeper's recipe without the herd effect: the lowest node holds the lock and
// every other waiter watches only the node it must outlast. Mutex is InterProcessMutex-like (reentrant per instance);
// ReadWriteLock's readers wait only for earlier writers.
import type { ZkClient } from '../client.js';
import { isZkError, ZkClientError } from '../errors.js';
import type { Stat } from '../types.js';
import { createProtected, deadlineOf, deleteQuietly, joinPath, retrying, sortBySeq, waitGone } from './common.js';

/** Given the lock's nodes in creation order and ours, either we hold it or we must wait for `waitFor` to go. */
export type HoldRule = (ordered: string[], ours: string) => { held: true } | { held: false; waitFor: string };

export const exclusive: HoldRule = (ordered, ours) => {
  const i = ordered.indexOf(ours);
  return i === 0 ? { held: true } : { held: false, waitFor: ordered[i - 1] as string };
};

export const READ_PREFIX = '__READ__';
export const WRITE_PREFIX = '__WRIT__';

/** A reader holds the lock unless a writer came before it; it waits for the nearest earlier writer. */
export const shared: HoldRule = (ordered, ours) => {
  const i = ordered.indexOf(ours);
  for (let j = i - 1; j >= 0; j--) if ((ordered[j] as string).includes(WRITE_PREFIX)) return { held: false, waitFor: ordered[j] as string };
  return { held: true };
};

/** Joins the queue: an ephemeral sequential node under `dir` (a container, created when missing). */
export async function enqueueNode(client: ZkClient, dir: string, prefix: string, data?: string): Promise<string> {
  // No ensureDir first: a create under a missing directory makes it (createProtected), saving a write per acquire.
  return createProtected(client, dir, prefix, 'EPHEMERAL_SEQUENTIAL', data);
}

/**
 * Waits until `rule` says node `ours` holds (true) or `deadline` passes (false), watching only the node it must
 * outlast. If `ours` vanishes (its session expired), throws SessionExpired.
 */
export async function waitTurn(client: ZkClient, dir: string, ours: string, rule: HoldRule, deadline: number, accept?: (n: string) => boolean): Promise<boolean> {
  const name = ours.slice(dir.length + (dir === '/' ? 0 : 1));
  for (;;) {
    const { children } = await retrying(client, () => client.getChildren(dir));
    const ordered = sortBySeq(children, accept);
    if (!ordered.includes(name)) throw new ZkClientError('SessionExpired', `lock node ${ours} is gone (session expired or node deleted)`, { path: ours });
    const d = rule(ordered, name);
    if (d.held) return true;
    if (!(await waitGone(client, joinPath(dir, d.waitFor), deadline))) return false;
  }
}

/** A lock node held by this process: its path and, as a fencing token, the zxid that created it. */
export interface Held {
  path: string;
  stat: Stat;
}

/** A reentrant lock of one kind on `dir` (the building block of Mutex and ReadWriteLock). */
export class InterProcessLock {
  private holds = 0;
  private node: Held | undefined;
  private acquiring: Promise<boolean> | undefined;

  constructor(
    readonly client: ZkClient,
    readonly dir: string,
    private readonly prefix: string,
    private readonly rule: HoldRule,
    private readonly accept?: (name: string) => boolean,
  ) {}

  /** True while this instance holds the lock and its session is alive. */
  isAcquired(): boolean {
    return this.holds > 0 && this.client.state !== 'Expired' && this.client.state !== 'Closed';
  }

  /** The held node (path and stat; `stat.czxid` grows with every acquisition and serves as a fencing token). */
  get holder(): Held | undefined {
    return this.isAcquired() ? this.node : undefined;
  }

  /**
   * Waits until held (true) or `timeoutMs` passes (false). Reentrant: an instance that holds the lock gets it again
   * at once and must release it as many times. Concurrent calls on one instance share one place in the queue.
   */
  async acquire(timeoutMs?: number): Promise<boolean> {
    if (this.holds > 0) {
      this.holds++;
      return true;
    }
    if (this.acquiring) {
      const ok = await this.acquiring;
      if (!ok) return this.acquire(timeoutMs);
      this.holds++;
      return true;
    }
    this.acquiring = this.acquireNode(deadlineOf(timeoutMs));
    try {
      const ok = await this.acquiring;
      if (ok) this.holds++;
      return ok;
    } finally {
      this.acquiring = undefined;
    }
  }

  private async acquireNode(deadline: number): Promise<boolean> {
    const path = await enqueueNode(this.client, this.dir, this.prefix);
    try {
      if (!(await waitTurn(this.client, this.dir, path, this.rule, deadline, this.accept))) {
        await deleteQuietly(this.client, path);
        return false;
      }
      const stat = await this.client.exists(path);
      if (!stat) throw new ZkClientError('SessionExpired', `lock node ${path} is gone`, { path });
      this.node = { path, stat };
      return true;
    } catch (e) {
      if (!isZkError(e, 'SessionExpired')) await deleteQuietly(this.client, path).catch(() => {});
      throw e;
    }
  }

  /** Releases one hold; the last one deletes the node, waking the next waiter. */
  async release(): Promise<void> {
    if (this.holds === 0) throw new ZkClientError('BadArguments', `lock ${this.dir} is not held by this instance`);
    if (--this.holds > 0) return;
    const node = this.node;
    this.node = undefined;
    if (node && this.client.state !== 'Expired' && this.client.state !== 'Closed') await deleteQuietly(this.client, node.path);
  }
}

/** InterProcessMutex: a fair, reentrant mutex on `path`. */
export class Mutex extends InterProcessLock {
  constructor(client: ZkClient, path: string) {
    super(client, path, 'lock-', exclusive);
  }
}

/** InterProcessReadWriteLock: many readers or one writer; a reader is blocked only by writers that queued earlier. */
export class ReadWriteLock {
  readonly readLock: InterProcessLock;
  readonly writeLock: InterProcessLock;

  constructor(client: ZkClient, path: string) {
    this.writeLock = new InterProcessLock(client, path, WRITE_PREFIX, exclusive);
    this.readLock = new InterProcessLock(client, path, READ_PREFIX, shared);
  }
}
