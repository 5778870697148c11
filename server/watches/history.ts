// The recent-change history that lets a persistent watch resumed with sinceZxid replay what it missed: the last
// N triggers in zxid order (a ring), indexed by path; `floorZxid` says how far back it is complete.
import { isWithin, parentOf } from '../tree/paths.js';
import type { Acl, WatchEventType } from '../tree/types.js';

export interface Change {
  zxid: number;
  type: WatchEventType;
  path: string;
  acl: Acl[];
}

/** A path's changes in zxid order; `start` skips the ones evicted from the ring (compacted now and then). */
interface PathLog {
  items: Change[];
  start: number;
}

export class ChangeHistory {
  private readonly ring: (Change | undefined)[];
  private head = 0;
  private size = 0;
  private readonly byPath = new Map<string, PathLog>();

  /** Every change with zxid > floorZxid is held (changes at floorZxid itself may be partly evicted). */
  floorZxid: number;

  constructor(
    private readonly maxEvents: number,
    startZxid: number,
  ) {
    this.ring = new Array<Change | undefined>(Math.max(0, maxEvents));
    this.floorZxid = startZxid;
  }

  get length(): number {
    return this.size;
  }

  record(c: Change): void {
    if (this.maxEvents === 0) {
      this.floorZxid = c.zxid;
      return;
    }
    if (this.size === this.maxEvents) this.evictOldest();
    this.ring[(this.head + this.size) % this.maxEvents] = c;
    this.size++;
    let log = this.byPath.get(c.path);
    if (!log) this.byPath.set(c.path, (log = { items: [], start: 0 }));
    log.items.push(c);
  }

  /** Forgets everything: changes up to `floorZxid` are no longer known (the state jumped, e.g. a snapshot). */
  reset(floorZxid: number): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.size = 0;
    this.byPath.clear();
    this.floorZxid = floorZxid;
  }

  /** True when every change after `zxid` is still here. */
  covers(zxid: number): boolean {
    return zxid >= this.floorZxid;
  }

  /** Changes to `path` after `zxid`, oldest first. */
  forPath(path: string, zxid: number): Change[] {
    const log = this.byPath.get(path);
    if (!log) return [];
    const out: Change[] = [];
    for (let i = log.start; i < log.items.length; i++) {
      const c = log.items[i] as Change;
      if (c.zxid > zxid) out.push(c);
    }
    return out;
  }

  /** Changes at or below `root` after `zxid`, in zxid order (ring order). */
  forSubtree(root: string, zxid: number): Change[] {
    const out: Change[] = [];
    for (let i = this.firstAfter(zxid); i < this.size; i++) {
      const c = this.ring[(this.head + i) % this.maxEvents] as Change;
      if (isWithin(c.path, root)) out.push(c);
    }
    return out;
  }

  /**
   * forSubtree for many roots in one pass over the history: each change is matched against its own ancestors, so a
   * resume of thousands of recursive watches costs the history times the paths' depth, not times the watches.
   */
  forSubtrees(roots: ReadonlySet<string>, zxid: number): Map<string, Change[]> {
    const out = new Map<string, Change[]>();
    if (roots.size === 0) return out;
    for (let i = this.firstAfter(zxid); i < this.size; i++) {
      const c = this.ring[(this.head + i) % this.maxEvents] as Change;
      let p = c.path;
      for (;;) {
        if (roots.has(p)) {
          let list = out.get(p);
          if (!list) out.set(p, (list = []));
          list.push(c);
        }
        if (p === '/') break;
        p = parentOf(p);
      }
    }
    return out;
  }

  /** Ring position (0 = oldest) of the first change after `zxid`: the ring is in zxid order. */
  private firstAfter(zxid: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ring[(this.head + mid) % this.maxEvents] as Change).zxid > zxid) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private evictOldest(): void {
    const old = this.ring[this.head] as Change;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.maxEvents;
    this.size--;
    this.floorZxid = Math.max(this.floorZxid, old.zxid);
    const log = this.byPath.get(old.path) as PathLog;
    log.start++;
    if (log.start === log.items.length) this.byPath.delete(old.path);
    else if (log.start > 64 && log.start * 2 > log.items.length) {
      log.items = log.items.slice(log.start);
      log.start = 0;
    }
  }
}
