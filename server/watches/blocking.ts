// Blocking reads (Consul-style ?wait&index): a GET waits until its node, or its child list, changes after the
// index the client last saw, or until the (capped) wait ends. Waiters are bounded in number and released on close.
import { ZkError } from '../errors.js';
import { aclAllows } from '../tree/acl.js';
import { PERM_BITS, type AuthId, type NodeRecord, type WatchEventType } from '../tree/types.js';
import type { ChangeHistory } from './history.js';
import { ancestorPzxid, lastDeletion } from './resume.js';

/** What the GET answers with, and so which changes end its wait. */
export type BlockingMode = 'data' | 'children' | 'stat';

interface Waiter {
  mode: BlockingMode;
  done: () => void;
}

function wakes(mode: BlockingMode, type: WatchEventType): boolean {
  switch (mode) {
    case 'data':
      return type !== 'NodeChildrenChanged';
    case 'children':
      return type !== 'NodeDataChanged';
    case 'stat':
      return true;
  }
}

type Changes = Pick<ChangeHistory, 'covers' | 'forPath'>;

/**
 * Has the node (as `mode` sees it) changed after `index`? A missing node has if it was deleted after `index`, which
 * the change history tells; where the history no longer reaches back, the nearest ancestor's pzxid stands in for it
 * (it moves on any create or delete below, so a wait may end early, never late).
 */
function changedSince(mode: BlockingMode, path: string, index: number, getNode: (p: string) => NodeRecord | undefined, history: Changes): boolean {
  const n = getNode(path);
  if (n) {
    const z = mode === 'data' ? Math.max(n.czxid, n.mzxid) : mode === 'children' ? Math.max(n.czxid, n.pzxid) : Math.max(n.czxid, n.mzxid, n.pzxid);
    return z > index;
  }
  if (history.covers(index)) return lastDeletion(history, path, index) !== undefined;
  return ancestorPzxid(path, getNode) > index;
}

export class BlockingReads {
  private readonly byPath = new Map<string, Set<Waiter>>();
  private waiting = 0;

  constructor(
    private readonly limits: { maxWaitMs: number; maxWaiters: number },
    private readonly getNode: (p: string) => NodeRecord | undefined,
    private readonly history: Changes,
  ) {}

  get size(): number {
    return this.waiting;
  }

  /**
   * Resolves at once if there is nothing to wait for (no index, a change after it, or a node the caller may not
   * read — the read that follows reports that); else on the first matching change, on `abort`, or after the wait.
   */
  wait(path: string, mode: BlockingMode, index: number, waitMs: number, auth: AuthId[], abort: AbortSignal): Promise<void> {
    const ms = Math.min(waitMs, this.limits.maxWaitMs);
    if (ms <= 0 || index <= 0 || abort.aborted) return Promise.resolve();
    const n = this.getNode(path);
    if (n && !aclAllows(n.acl, PERM_BITS.r, auth)) return Promise.resolve();
    if (changedSince(mode, path, index, this.getNode, this.history)) return Promise.resolve();
    if (this.waiting >= this.limits.maxWaiters) {
      return Promise.reject(new ZkError('ConnectionLoss', `too many blocking reads waiting (${this.limits.maxWaiters}); retry`, { applied: false }));
    }
    return new Promise((resolve) => {
      let set = this.byPath.get(path);
      if (!set) this.byPath.set(path, (set = new Set()));
      const w: Waiter = {
        mode,
        done: () => {
          clearTimeout(timer);
          abort.removeEventListener('abort', w.done);
          const s = this.byPath.get(path);
          if (s?.delete(w)) {
            this.waiting--;
            if (s.size === 0) this.byPath.delete(path);
          }
          resolve();
        },
      };
      const timer = setTimeout(w.done, ms);
      abort.addEventListener('abort', w.done, { once: true });
      set.add(w);
      this.waiting++;
    });
  }

  /** A committed change to `path`: wakes the waiters it concerns. */
  notify(type: WatchEventType, path: string): void {
    const set = this.byPath.get(path);
    if (!set) return;
    for (const w of [...set]) if (wakes(w.mode, type)) w.done();
  }

  /** Answers every waiter now (shutdown). */
  releaseAll(): void {
    for (const set of [...this.byPath.values()]) for (const w of [...set]) w.done();
  }
}
