// Requests waiting until this node has applied a given zxid (a ZK-Min-Zxid ahead of it). Bounded: a client that
// pipelines requests asking for a zxid far ahead had each of them wait, with nothing answered to slow its sending
// (61,000 of them took the server from 91 to 297 MB). A min-heap by zxid, so an apply looks only at the nearest
// wait, and a wait that times out is marked rather than searched for; marked ones are dropped when they surface,
// or all at once when they outnumber the live ones.
import { ZkError } from './errors.js';

/** Requests that may wait for a zxid at once; beyond it a new one is refused at once (503, retry). */
export const MAX_ZXID_WAITS = 10_000;

interface Wait {
  zxid: number;
  resolve: () => void;
  timer: NodeJS.Timeout | undefined;
  /** Resolved or timed out: its heap slot is dead. */
  done: boolean;
}

export class ZxidWaits {
  private heap: Wait[] = [];
  private live = 0;

  constructor(private readonly max = MAX_ZXID_WAITS) {}

  /** Requests waiting now. */
  get size(): number {
    return this.live;
  }

  /**
   * Resolves once release() reaches `zxid` (at once when `applied()` has); rejects with ConnectionLoss after
   * `timeoutMs`, or at once when full.
   */
  wait(zxid: number, timeoutMs: number, applied: () => number): Promise<void> {
    if (zxid <= applied()) return Promise.resolve();
    if (this.live >= this.max) {
      return Promise.reject(new ZkError('ConnectionLoss', `too many requests waiting for a zxid this node has not reached (${this.max})`));
    }
    return new Promise((resolve, reject) => {
      const w: Wait = { zxid, resolve, timer: undefined, done: false };
      w.timer = setTimeout(() => {
        w.done = true;
        this.live--;
        this.compact();
        reject(new ZkError('ConnectionLoss', `this node has not reached zxid ${zxid} within ${timeoutMs} ms (at ${applied()})`));
      }, timeoutMs);
      this.push(w);
      this.live++;
    });
  }

  /** Everything up to `zxid` is applied here: its waits resolve. */
  release(zxid: number): void {
    while (this.heap.length > 0 && (this.heap[0] as Wait).zxid <= zxid) {
      const w = this.pop();
      if (w.done) continue;
      w.done = true;
      this.live--;
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  /** Timed-out waits for a zxid that never comes would stay in the heap for good: rebuild once they are most of it. */
  private compact(): void {
    if (this.heap.length <= 2 * this.live + 1024) return;
    const keep = this.heap.filter((w) => !w.done);
    this.heap = [];
    for (const w of keep) this.push(w);
  }

  private push(w: Wait): void {
    const h = this.heap;
    h.push(w);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as Wait).zxid <= w.zxid) break;
      h[i] = h[parent] as Wait;
      i = parent;
    }
    h[i] = w;
  }

  private pop(): Wait {
    const h = this.heap;
    const top = h[0] as Wait;
    const last = h.pop() as Wait;
    if (h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && (h[r] as Wait).zxid < (h[l] as Wait).zxid ? r : l;
      if ((h[c] as Wait).zxid >= last.zxid) break;
      h[i] = h[c] as Wait;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
