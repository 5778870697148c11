// Catching up a peer that is behind the leader's log: the leader ships a consistent copy of its LMDB state
// (Store.backupTo) in bounded chunks over the peer channel; the follower writes it to a file and installs it.
import { createReadStream, createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';

export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/**
 * `sid` names one stream (sender, its term, a counter): a deposed leader's stream and its successor's can reach a
 * follower interleaved, and chunks of one must never end up in the other's file. `lterm` is the sender's term
 * when it began the stream, so a late start of an older leader's stream cannot push aside a newer one.
 */
export type SnapshotFrame =
  | { k: 'snapChunk'; sid: string; lterm: number; seq: number; data: Uint8Array }
  | { k: 'snapEnd'; sid: string; index: number; term: number; bytes: number };

/** Leader side: writes a backup, streams it, reports the index/term the copy was taken at. */
export async function sendSnapshot(opts: {
  store: Store;
  dataDir: string;
  to: number;
  sid: string;
  /** The sender's term as leader. */
  lterm: number;
  send: (frame: SnapshotFrame) => boolean;
  termOf: (index: number) => number;
  /** Checked before every frame: false once the sender is no longer the leader that began the stream. */
  stillLeader: () => boolean;
  deadlineMs: number;
  log: Logger;
}): Promise<{ index: number; term: number }> {
  const file = join(opts.dataDir, `snapshot-out-${opts.to}.mdb`);
  rmSync(file, { force: true });
  try {
    const t0 = Date.now();
    const info = await opts.store.backupTo(file);
    const term = opts.termOf(info.zxid);
    let seq = 0;
    let bytes = 0;
    const deadline = Date.now() + opts.deadlineMs;
    // The peer queue is bounded: wait for it to drain rather than drop a frame of the stream.
    const deliver = async (frame: SnapshotFrame) => {
      for (;;) {
        if (!opts.stillLeader()) throw new Error(`stopped the snapshot to peer ${opts.to}: no longer the leader that began it`);
        if (opts.send(frame)) return;
        if (Date.now() > deadline) throw new Error(`snapshot to peer ${opts.to} did not finish within ${opts.deadlineMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    for await (const chunk of createReadStream(file, { highWaterMark: SNAPSHOT_CHUNK_BYTES })) {
      const data = chunk as Buffer;
      await deliver({ k: 'snapChunk', sid: opts.sid, lterm: opts.lterm, seq, data });
      seq++;
      bytes += data.length;
    }
    await deliver({ k: 'snapEnd', sid: opts.sid, index: info.zxid, term, bytes });
    opts.log.info({ peer: opts.to, zxid: info.zxid, znodes: info.znodes, bytes, ms: Date.now() - t0 }, 'snapshot sent to lagging peer');
    return { index: info.zxid, term };
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * Follower side: collects one stream's chunks in order into a file; `finish` returns it once complete. A chunk 0
 * starts a new stream, which supersedes the one in progress unless that one began in a later term; frames of any
 * other stream are ignored.
 */
export class SnapshotReceiver {
  private out?: WriteStream;
  private sid?: string;
  private lterm = 0;
  private expected = 0;
  private received = 0;
  readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'snapshot-in.mdb');
  }

  /** The stream a frame with this id belongs to is the one being collected. */
  current(sid: string): boolean {
    return this.out !== undefined && sid === this.sid;
  }

  /** False when the chunk belongs to another stream (ignored); throws when the current stream has a gap. */
  chunk(sid: string, lterm: number, seq: number, data: Uint8Array): boolean {
    if (seq === 0 && !(this.out !== undefined && lterm < this.lterm)) {
      this.out?.destroy();
      rmSync(this.file, { force: true });
      this.out = createWriteStream(this.file);
      this.sid = sid;
      this.lterm = lterm;
      this.expected = 0;
      this.received = 0;
    }
    if (!this.current(sid)) return false;
    if (seq !== this.expected) throw new Error(`snapshot chunk ${seq} out of order (expected ${this.expected})`);
    this.out?.write(data);
    this.expected++;
    this.received += data.byteLength;
    return true;
  }

  async finish(sid: string, bytes: number): Promise<string> {
    if (!this.current(sid)) throw new Error('snapshot end of a stream that is not the one being received');
    const out = this.out;
    this.out = undefined;
    this.sid = undefined;
    if (!out) throw new Error('snapshot end without chunks');
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (this.received !== bytes) throw new Error(`snapshot truncated: ${this.received} of ${bytes} bytes`);
    return this.file;
  }

  discard(): void {
    this.out?.destroy();
    this.out = undefined;
    this.sid = undefined;
    rmSync(this.file, { force: true });
  }
}
