// What one connection has received: the zxid of its newest event (no later event may be older) and its latest
// events (a bounded ring), so a watch resumed on it sends neither an event twice nor one older than the newest.
import assert from 'node:assert/strict';
import type { WatchEventType } from '../tree/types.js';

/** An event's identity: a transaction fires each (type, path) at most once (see WatchHub's onceEach). */
export interface EventId {
  readonly zxid: number;
  readonly type: WatchEventType;
  readonly path: string;
}

/** Events a connection remembers before it first resumes a watch (wsMaxRememberedEvents after). */
export const LIVE_EVENTS = 16;

export class DeliveredEvents {
  /** zxid of the newest event delivered; 0 before the first. */
  mark = 0;
  /** Every delivered event with a zxid above this is in the ring; at or below it some may be forgotten. */
  private floor = 0;
  /** Delivered events in zxid order, at most `max`; once full, `head` is the oldest. */
  private ring: EventId[] = [];
  private head = 0;

  /**
   * LIVE_EVENTS until the connection first resumes a watch, then `limit`: most connections never resume one, and
   * thousands of them each holding `limit` events would be megabytes for nothing.
   */
  private max: number;

  constructor(private readonly limit: number) {
    this.max = Math.min(LIVE_EVENTS, limit);
  }

  /** From now on, keep the latest `limit` events. */
  remember(): void {
    if (this.max === this.limit) return;
    // The ring grows from here by appending, so it must start in order at index 0.
    this.ring = [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
    this.head = 0;
    this.max = this.limit;
  }

  record(e: EventId): void {
    // The message is built only when the invariant breaks: this runs for every event on every watching connection.
    if (e.zxid < this.mark) assert.fail(`event at zxid ${e.zxid} after one at ${this.mark}: a connection's events must go in zxid order`);
    this.mark = e.zxid;
    if (this.ring.length < this.max) {
      this.ring.push(e);
      return;
    }
    if (this.max === 0) {
      this.floor = e.zxid;
      return;
    }
    this.floor = (this.ring[this.head] as EventId).zxid;
    this.ring[this.head] = e;
    this.head = (this.head + 1) % this.max;
  }

  /** Was `e` delivered? undefined when it is too old to tell. */
  has(e: EventId): boolean | undefined {
    if (e.zxid > this.mark) return false;
    const n = this.ring.length;
    const at = (i: number) => this.ring[(this.head + i) % n] as EventId;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (at(mid).zxid < e.zxid) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < n && at(i).zxid === e.zxid; i++) if (at(i).type === e.type && at(i).path === e.path) return true;
    return e.zxid > this.floor ? false : undefined;
  }
}
