// Session liveness (ZooKeeper's SessionTracker): deadlines in memory, touched by keepalives and bound
// WebSockets. Only the writer (standalone node or leader) expires sessions, by proposing closeSession.

interface Entry {
  timeoutMs: number;
  deadline: number;
  closing: boolean;
}

/**
 * The clock session deadlines run on: monotonic, so that a step of the wall clock (NTP, a VM resumed, an operator's
 * `date`) neither expires every session at once nor keeps dead ones alive. Deadlines live in memory only (a restart or
 * a new leader gives every session a full timeout), so no other node or process ever compares them.
 */
function sessionClock(): number {
  return performance.now();
}

export class SessionTracker {
  /**
   * `clock`: the node's AwakeClock (server/awake-clock.ts), so that time the node did not run counts against no
   * session; sessionClock by default; a test's own to step time.
   */
  constructor(private readonly clock: () => number = sessionClock) {}

  private readonly sessions = new Map<string, Entry>();
  /**
   * On a follower: sessions touched since the last forward to the leader, which owns expiry. Only known sessions
   * get in, so it is bounded by the live sessions (maxSessions). A cap below that would drop the touches of the
   * sessions that keep alive late in each tick, every tick, and the leader would expire them.
   */
  private touched = new Set<string>();

  get size(): number {
    return this.sessions.size;
  }

  /** After a restart every known session gets a full timeout from now, as ZooKeeper does on load. */
  add(id: string, timeoutMs: number): void {
    this.sessions.set(id, { timeoutMs, deadline: this.clock() + timeoutMs, closing: false });
  }

  has(id: string): boolean {
    const e = this.sessions.get(id);
    return e !== undefined && !e.closing;
  }

  timeoutOf(id: string): number | undefined {
    return this.sessions.get(id)?.timeoutMs;
  }

  touch(id: string): boolean {
    const e = this.sessions.get(id);
    if (!e || e.closing) return false;
    e.deadline = Math.max(e.deadline, this.clock() + e.timeoutMs);
    this.touched.add(id);
    return true;
  }

  /** Marks the session as closing so no request is accepted in it while its close commits. */
  markClosing(id: string): void {
    const e = this.sessions.get(id);
    if (e) e.closing = true;
  }

  /** A close that never committed (e.g. its leader was deposed): the session is live again. */
  unmarkClosing(id: string): void {
    const e = this.sessions.get(id);
    if (e) e.closing = false;
  }

  /** Forgets the session, its touch too: a node that never forwards touches (a leader, standalone) would keep every one. */
  remove(id: string): void {
    this.sessions.delete(id);
    this.touched.delete(id);
  }

  /** Sessions past their deadline, at most `limit`, marked closing so each is expired once. */
  takeExpired(limit = Infinity): string[] {
    const now = this.clock();
    const out: string[] = [];
    for (const [id, e] of this.sessions) {
      if (out.length >= limit) break;
      if (!e.closing && e.deadline <= now) {
        e.closing = true;
        out.push(id);
      }
    }
    return out;
  }

  /** A new leader (or a restart) gives every live session a full timeout from now. */
  renewAll(): void {
    const now = this.clock();
    for (const e of this.sessions.values()) {
      e.deadline = now + e.timeoutMs;
      // A close this node proposed as an earlier leader may have been lost; expiry must be able to try again.
      e.closing = false;
    }
  }

  /** Sessions touched since the last call (a follower forwards them to the leader). */
  takeTouched(): string[] {
    if (this.touched.size === 0) return [];
    const out = [...this.touched];
    this.touched = new Set();
    return out;
  }

  ids(): string[] {
    return [...this.sessions.keys()];
  }
}
