// Building blocks the recipes share: sequence-suffix ordering, container parents, Curator-style protected creates
// (a create whose answer was lost can be found again by its uuid), and waiting for one node to go.
import { randomUUID } from 'node:crypto';
import type { ZkClient } from '../client.js';
import { isZkError, ZkClientError } from '../errors.js';
import type { CreateMode, Data } from '../types.js';

/** Attempts at a create whose outcome stays unknown before the recipe gives up with ConnectionLoss. */
export const MAX_CREATE_ATTEMPTS = 8;

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The 10-digit counter a sequential create appended, or -1 for a name without one. */
export function seqOf(name: string): number {
  const m = /(\d{10})$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Sequential children in creation order (whatever their prefixes), other names dropped. */
export function sortBySeq(names: string[], accept: (name: string) => boolean = () => true): string[] {
  return names.filter((n) => seqOf(n) >= 0 && accept(n)).sort((a, b) => seqOf(a) - seqOf(b));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Remaining ms until `deadline` (Infinity for none). */
export function remaining(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - Date.now());
}

export function deadlineOf(timeoutMs: number | undefined): number {
  return timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
}

/** `dir` exists afterwards: created (with missing ancestors) as a container, so it goes once its last child does. */
export async function ensureDir(client: ZkClient, dir: string, mode: CreateMode = 'CONTAINER'): Promise<void> {
  try {
    // A retry after a lost answer meets NodeExists, which is the outcome wanted anyway.
    await retrying(client, () => client.create(dir, undefined, { mode, parents: true }));
  } catch (e) {
    if (!isZkError(e, 'NodeExists')) throw e;
  }
}

/** Runs `op` again after transient failures (ConnectionLoss), waiting for the connection in between; bounded. */
export async function retrying<T>(client: ZkClient, op: () => Promise<T>, attempts = MAX_CREATE_ATTEMPTS): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await op();
    } catch (e) {
      if (!isZkError(e, 'ConnectionLoss') || i >= attempts) throw e;
      await client.waitConnected().catch(() => {});
      await sleep(client.transport.backoffMs(i));
    }
  }
}

/**
 * After a write whose outcome is unknown: commits a write that changes nothing (a multi of one check of
 * `/zookeeper`, which every client may read) at the session's current ZK-Session-Epoch, which the client raised when
 * it moved on. The lost write may still reach the log: placed before this one, it is applied, and the reads after see
 * it (this answer's zxid goes with them, and a new leader commits what it kept of the old one's log before its own
 * entries); placed after, it is refused, since this write raised its session's recorded epoch. So a create not found
 * now never will be, and a second create cannot leave the first behind as an orphan no one deletes and everyone
 * queues after. ZooKeeper gets the same from its reconnect, which tells the leader the session has moved.
 */
async function settleLostWrites(client: ZkClient): Promise<void> {
  await retrying(client, () => client.multi([{ op: 'check', path: '/zookeeper', version: -1 }]));
}

/**
 * Creates `dir/_c_<uuid>-<prefix>` (sequential) and returns its path. When a create's outcome is unknown
 * (ConnectionLoss after sending), the children are searched for the uuid before trying again, so a lost answer
 * never leaves a second node behind (Curator's protection mode). A vanished container parent is re-created.
 */
export async function createProtected(client: ZkClient, dir: string, prefix: string, mode: CreateMode, data?: Data): Promise<string> {
  const tag = `_c_${randomUUID()}-`;
  for (let attempt = 1; ; attempt++) {
    try {
      return (await client.create(joinPath(dir, tag + prefix), data, { mode })).path;
    } catch (e) {
      if (isZkError(e, 'NoNode')) {
        await ensureDir(client, dir);
      } else if (isZkError(e, 'ConnectionLoss') && attempt < MAX_CREATE_ATTEMPTS) {
        await client.waitConnected().catch(() => {});
        await settleLostWrites(client);
        const found = await retrying(client, () => client.getChildren(dir)).then(
          (r) => r.children.find((c) => c.startsWith(tag)),
          (err: unknown) => (isZkError(err, 'NoNode') ? undefined : Promise.reject(err)),
        );
        if (found) return joinPath(dir, found);
      } else {
        throw e;
      }
      if (attempt >= MAX_CREATE_ATTEMPTS) throw new ZkClientError('ConnectionLoss', `could not create under ${dir}`, { path: dir });
    }
  }
}

/** Deletes `path` if it is there; a node already gone is fine. */
export async function deleteQuietly(client: ZkClient, path: string): Promise<void> {
  try {
    await retrying(client, () => client.delete(path));
  } catch (e) {
    if (!isZkError(e, 'NoNode')) throw e;
  }
}

/**
 * Waits until `path` does not exist, with one exists watch on it (so only this waiter wakes when it goes), or until
 * `deadline`. True when gone, false on timeout. A lost connection re-arms the watch; an expired session throws.
 */
export async function waitGone(client: ZkClient, path: string, deadline: number): Promise<boolean> {
  for (;;) {
    const { state, fired } = await retrying(client, () => client.watchOnce(path, 'exists'));
    if (state.stat === null) {
      state.cancel();
      return true;
    }
    const r = await until(fired, deadline);
    if (r === 'timeout') {
      state.cancel();
      return false;
    }
    if (r.type === 'NodeDeleted') return true;
  }
}

/** Waits until `fired` settles or `deadline` passes; false on timeout. */
export async function until<T>(fired: Promise<T>, deadline: number): Promise<T | 'timeout'> {
  const left = remaining(deadline);
  if (left === Infinity) return fired;
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), left)));
  return Promise.race([fired, t]).finally(() => clearTimeout(timer));
}
