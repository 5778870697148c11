// A connection's resume op, ZooKeeper's SetWatches after a reconnect: many watches armed from one zxid with what they
// missed merged into one replay, and resume frames sent with more:true held, unarmed, until the one that completes them.
import { ZkError } from '../server/errors.js';
import { validatePath } from '../server/tree/paths.js';
import type { ZkNode } from '../server/node.js';
import type { EventId } from '../server/watches/delivered.js';
import type { WatchHub, WatchSink } from '../server/watches/hub.js';
import type { WatchKind } from '../server/watches/registry.js';
import type { Change } from '../server/watches/history.js';
import { watchReply, zxidOf } from './watch-frames.js';

export type ResumeWatch = { path: string; kind: WatchKind; encoding?: string };
export type ResumeFrame = { sinceZxid: string | number; watches: ResumeWatch[]; more?: boolean };

/** What a completed batch armed, for its connection to send in this order: missed events, resyncs, then one reply. */
export interface Resumed {
  missed: EventId[];
  resyncs: string[];
  results: Record<string, unknown>[];
}

export class ResumeBatch<S extends WatchSink> {
  /**
   * Watches of resume frames sent with more:true, not yet armed: the frame that completes the batch resumes them and
   * its own as one. Bounded by wsMaxWatchesPerConnection watches and wsMaxResumeBytes of frames.
   */
  private held: { since: number; watches: ResumeWatch[]; bytes: number } | null = null;

  constructor(
    private readonly sink: S,
    private readonly hub: WatchHub<S>,
    private readonly node: ZkNode,
  ) {}

  /**
   * Arms many watches from one zxid, as ZooKeeper's SetWatches does: their missed events go out merged in zxid order,
   * each once, then one reply. One at a time, the first watch's replay would take the connection past what the next
   * one missed, and that one could then only get a resync. The watches of resume frames held before this one (see
   * hold) come first, as if all had been in this frame.
   */
  arm(since: number, frameWatches: ResumeWatch[]): Resumed {
    // Taken only now: a frame refused or deferred before this leaves the held batch as it was.
    const watches = this.held ? [...this.held.watches, ...frameWatches] : frameWatches;
    this.held = null;
    const roots = new Set(watches.filter((w) => w.kind === 'persistentRecursive').map((w) => w.path));
    const subtrees = this.hub.history.forSubtrees(roots, since);
    const missed = new Map<string, EventId>();
    const resyncs: string[] = [];
    const results: Record<string, unknown>[] = [];
    // A watch listed twice is read and armed once, and its one result repeated; the reply is bounded as it grows.
    const once = new Map<string, { result: Record<string, unknown>; bytes: number }>();
    const armed: ResumeWatch[] = [];
    const maxBytes = this.node.cfg.wsMaxReplyBytes;
    let bytes = 0;
    for (const w of watches) {
      const key = `${w.kind} ${w.encoding === 'base64' ? 'b' : 'u'} ${w.path}`;
      let r = once.get(key);
      if (!r) {
        const result = this.resumeOne(w, since, w.kind === 'persistentRecursive' ? (subtrees.get(w.path) ?? []) : undefined, missed, resyncs, armed);
        r = { result, bytes: Buffer.byteLength(JSON.stringify(result)) + 1 };
        once.set(key, r);
      }
      bytes += r.bytes;
      if (bytes > maxBytes && results.length > 0) {
        for (const a of armed) this.hub.unwatch(this.sink, a.path, a.kind);
        throw new ZkError(
          'BadArguments',
          `the reply to this resume would be larger than wsMaxReplyBytes (${maxBytes} bytes): none of its ${watches.length} watches was armed, and no resume frame is held; resume them in smaller batches`,
        );
      }
      results.push(r.result);
    }
    // A stable sort: events of one zxid keep the order their watches gave them.
    return { missed: [...missed.values()].sort((a, b) => a.zxid - b.zxid), resyncs, results };
  }

  /** One watch of a resume batch: its reply or error, its missed events and resync gathered, and noted if armed anew. */
  private resumeOne(w: ResumeWatch, since: number, subtree: Change[] | undefined, missed: Map<string, EventId>, resyncs: string[], armed: ResumeWatch[]): Record<string, unknown> {
    try {
      validatePath(w.path);
      const had = this.hub.registry.has(this.sink, w.path, w.kind);
      const st = this.hub.watch(this.sink, w.path, w.kind, since, subtree);
      if (st === 'defer') throw new Error('a watch deferred after the hub said it was ready');
      if (!had && this.hub.registry.has(this.sink, w.path, w.kind)) armed.push(w);
      for (const e of st.missed) missed.set(`${e.zxid} ${e.type} ${e.path}`, e);
      if (st.resync) resyncs.push(w.path);
      return watchReply(undefined, w.kind, st, w.encoding === 'base64');
    } catch (e) {
      if (!(e instanceof ZkError)) throw e;
      return { ok: false, ...e.toBody() };
    }
  }

  /**
   * A resume frame with more:true: its watches wait, unarmed, for the frame that completes the batch, so that what all
   * of them missed goes out as one merged replay. Across separately resumed frames the first one's replay can take the
   * connection past what a later frame's watches missed, which could then only resync. The acknowledgement carries no
   * zxid (nothing was read or sent) and no results: they all come in the completing frame's reply, in the order sent.
   * A refused frame is not held; what was held before it stays. Returns how many watches are held now.
   */
  hold(m: ResumeFrame, bytes: number): number {
    const since = this.sameSince(m.sinceZxid);
    const count = (this.held?.watches.length ?? 0) + m.watches.length;
    const size = (this.held?.bytes ?? 0) + bytes;
    const maxWatches = this.node.cfg.wsMaxWatchesPerConnection;
    if (count > maxWatches) {
      throw new ZkError('BadArguments', `${count} watches held to resume: more than a connection may hold (wsMaxWatchesPerConnection ${maxWatches}); this frame is not held, one without more completes the batch`);
    }
    const maxBytes = this.node.cfg.wsMaxResumeBytes;
    if (size > maxBytes) {
      throw new ZkError('BadArguments', `${size} bytes of resume frames held: more than wsMaxResumeBytes ${maxBytes}; this frame is not held, one without more completes the batch`);
    }
    if (this.held) {
      for (const w of m.watches) this.held.watches.push(w);
      this.held.bytes = size;
    } else this.held = { since, watches: [...m.watches], bytes };
    return count;
  }

  /** `raw` as a zxid, which must be that of the resume frames already held: a batch resumes from one zxid. */
  sameSince(raw: string | number): number {
    const since = zxidOf(raw);
    if (this.held && this.held.since !== since) {
      throw new ZkError('BadArguments', `sinceZxid ${since} differs from ${this.held.since}, that of the resume frames held: a batch resumes from one zxid`);
    }
    return since;
  }

  /** Drops the held frames: their connection is gone. */
  clear(): void {
    this.held = null;
  }
}
