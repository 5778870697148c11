// DistributedDoubleBarrier (ZooKeeper's recipe): `memberCount` processes enter together and leave together.
// Enter: an ephemeral child per member; the last to arrive creates `ready`, which everyone watches. Leave: the lowest
// member waits for the highest to go, every other deletes its node and waits for the lowest — one watch each.
import { randomUUID } from 'node:crypto';
import type { ZkClient } from '../client.js';
import { isZkError, ZkClientError } from '../errors.js';
import { deadlineOf, deleteQuietly, ensureDir, joinPath, retrying, until, waitGone } from './common.js';

const READY = 'ready';

export class DoubleBarrier {
  private readonly ours: string;
  private readonly ready: string;

  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    readonly memberCount: number,
    readonly id: string = randomUUID(),
  ) {
    if (!Number.isInteger(memberCount) || memberCount < 1) throw new ZkClientError('BadArguments', `memberCount must be a positive integer, got ${memberCount}`);
    if (id === READY || id.includes('/')) throw new ZkClientError('BadArguments', `bad member id ${JSON.stringify(id)}`);
    this.ours = joinPath(path, id);
    this.ready = joinPath(path, READY);
  }

  /** True once `memberCount` members have entered; false after `timeoutMs` (our node is then removed). */
  async enter(timeoutMs?: number): Promise<boolean> {
    const deadline = deadlineOf(timeoutMs);
    await ensureDir(this.client, this.path, 'PERSISTENT');
    try {
      await retrying(this.client, () => this.client.create(this.ours, undefined, { mode: 'EPHEMERAL' }));
    } catch (e) {
      if (!isZkError(e, 'NodeExists')) throw e;
    }
    for (;;) {
      const { state, fired } = await retrying(this.client, () => this.client.watchOnce(this.ready, 'exists'));
      if (state.stat) {
        state.cancel();
        return true;
      }
      const members = (await retrying(this.client, () => this.client.getChildren(this.path))).children.filter((c) => c !== READY);
      if (members.length >= this.memberCount) {
        state.cancel();
        try {
          await retrying(this.client, () => this.client.create(this.ready));
        } catch (e) {
          if (!isZkError(e, 'NodeExists')) throw e;
        }
        return true;
      }
      if ((await until(fired, deadline)) === 'timeout') {
        state.cancel();
        await deleteQuietly(this.client, this.ours);
        return false;
      }
    }
  }

  /** True once every member has left; false after `timeoutMs`. */
  async leave(timeoutMs?: number): Promise<boolean> {
    const deadline = deadlineOf(timeoutMs);
    const name = this.id;
    for (;;) {
      const members = (await retrying(this.client, () => this.client.getChildren(this.path))).children.filter((c) => c !== READY).sort();
      if (members.length === 0) break;
      const i = members.indexOf(name);
      if (i >= 0 && members.length === 1) {
        await deleteQuietly(this.client, this.ours);
        break;
      }
      const lowest = members[0] as string;
      const highest = members[members.length - 1] as string;
      let target: string;
      if (i === 0) {
        target = highest;
      } else {
        if (i > 0) await deleteQuietly(this.client, this.ours);
        target = lowest;
      }
      if (!(await waitGone(this.client, joinPath(this.path, target), deadline))) return false;
    }
    // The last one out takes the ready flag down, so the barrier can be used again.
    await deleteQuietly(this.client, this.ready);
    return true;
  }
}
