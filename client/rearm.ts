// Re-arming a client's watches on a new connection (ZooKeeper's SetWatches): resume frames cut to fit the server's
// frame bound, one watch frame each from a server that predates them, and the watches a server now refuses.
import { ZkClientError } from './errors.js';
import type { Frame } from './connection.js';
import type { WatchKind } from './types.js';
import type { WatchTable } from './watches.js';

/**
 * Bytes of watches in one resume frame: under the server's default wsMaxFrameBytes (16 KiB), past which it closes the
 * connection (1009), so a client with many watches would never get back in. A server with a lower bound closes a
 * frame this size too: the connection then halves it for its next attempts (connection.ts).
 */
export const RESUME_FRAME_BYTES = 12 * 1024;

/** The watches to re-arm, in order, cut into resume frames of at most `limit` bytes of watches each, as sent (JSON). */
function resumeBatches<K extends { path: string; kind: string }>(keys: K[], limit: number): K[][] {
  const out: K[][] = [];
  let cur: K[] = [];
  let bytes = 0;
  for (const k of keys) {
    // As the frame carries it: JSON escapes (a `\` or `"` in a name doubles) and the object around it.
    const n = Buffer.byteLength(JSON.stringify({ path: k.path, kind: k.kind })) + 1;
    if (cur.length > 0 && bytes + n > limit) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(k);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Sends a frame on the new connection and resolves with its `ok` reply (tracksZxid: the reply's zxid counts as seen). */
type Send = (frame: Frame, tracksZxid: boolean) => Promise<Frame>;

export class Rearm {
  constructor(
    private readonly watches: WatchTable,
    private readonly send: Send,
    private readonly frameBytes = RESUME_FRAME_BYTES,
  ) {}

  /**
   * Re-arms every watch on a new connection. With a zxid seen, in resume frames: the server then sends what their
   * watches missed in zxid order, each event once; one watch frame each, the first one's replay could take the
   * connection past what a later one missed, which would then only get a resync. A server that predates resume gets
   * watch frames.
   */
  async run(since: number): Promise<void> {
    const keys = this.watches.keys();
    if (keys.length === 0) return;
    // -1: nothing seen yet. A zxid of 0 seen (a server that has committed nothing) is a point to resume from all the same.
    if (since >= 0) {
      try {
        await this.resume(since, keys);
        return;
      } catch (e) {
        if (!(e instanceof ZkClientError) || e.zkName !== 'Unimplemented') throw e;
      }
    }
    await this.watchEach(keys, since);
  }

  /** One watch frame per key (from `since` when a zxid was seen); a watch the server refuses is dead. */
  private async watchEach(keys: { path: string; kind: WatchKind }[], since: number): Promise<void> {
    await Promise.all(
      keys.map((k) =>
        this.send({ op: 'watch', path: k.path, kind: k.kind, ...(since >= 0 ? { sinceZxid: String(since) } : {}) }, true).catch((e: unknown) => {
          if (!(e instanceof ZkClientError)) throw e;
          this.refused(k, e);
        }),
      ),
    );
  }

  /**
   * Resume frames the server accepts, all but the last with more:true, so it resumes them as one. A server that refuses
   * a more frame (it predates more, or would hold too much) gets that frame without more, which completes what it
   * holds, and the rest frame by frame: what a later frame's watches missed before an earlier frame's newest event
   * can then only come as a resync (a one-shot fires at that event's zxid instead).
   */
  private async resume(since: number, keys: { path: string; kind: WatchKind }[]): Promise<void> {
    const batches = resumeBatches(keys, this.frameBytes);
    let chained = true;
    let held: { path: string; kind: WatchKind }[] = [];
    for (const [i, batch] of batches.entries()) {
      const frame = { op: 'resume', sinceZxid: String(since), watches: batch };
      if (chained && i < batches.length - 1) {
        try {
          await this.send({ ...frame, more: true }, false);
          held.push(...batch);
          continue;
        } catch (e) {
          if (!(e instanceof ZkClientError) || e.zkName !== 'BadArguments') throw e;
          chained = false;
        }
      }
      held.push(...batch);
      let results: Frame[];
      try {
        results = ((await this.send(frame, true)).results ?? []) as Frame[];
      } catch (e) {
        // A batch whose reply would pass the server's wsMaxReplyBytes is refused whole, the held frames with it:
        // its watches are re-armed one frame each, with the fallback's resync risk (above).
        if (!(e instanceof ZkClientError) || e.zkName !== 'BadArguments' || held.length < 2) throw e;
        await this.watchEach(held, since);
        held = [];
        chained = false;
        continue;
      }
      held.forEach((k, j) => {
        const res = results[j];
        if (res?.ok !== true) this.refused(k, ZkClientError.fromBody(0, (res ?? {}) as { error?: never; message?: string }));
      });
      held = [];
    }
  }

  /** A watch the server now refuses (NoAuth after an ACL change, a limit) is dead; the connection is not. */
  private refused(k: { path: string; kind: WatchKind }, e: ZkClientError): void {
    if (e.zkName === 'ConnectionLoss' || e.zkName === 'SessionExpired') throw e;
    for (const r of this.watches.registrations(k.path, k.kind)) {
      this.watches.remove(r);
      r.onGone?.(e);
    }
  }
}
