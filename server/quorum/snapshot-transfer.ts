// Catching up a peer that is behind the leader's log: the leader ships a consistent copy of its LMDB state
// (Store.backupTo) in bounded chunks over the peer channel; the follower writes it to a file and installs it.
import { createReadStream, createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';

export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

export type SnapshotFrame =
  | { k: 'snapChunk'; seq: number; data: Uint8Array }
  | { k: 'snapEnd'; index: number; term: number; bytes: number };

/** Leader side: writes a backup, streams it, reports the index/term the copy was taken at. */
export async function sendSnapshot(opts: {
  store: Store;
  dataDir: string;
  to: number;
  send: (frame: SnapshotFrame) => boolean;
  termOf: (index: number) => number;
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
    for await (const chunk of createReadStream(file, { highWaterMark: SNAPSHOT_CHUNK_BYTES })) {
      const data = chunk as Buffer;
      // The peer queue is bounded: wait for it to drain rather than drop a chunk of the stream.
      while (!opts.send({ k: 'snapChunk', seq, data })) {
        if (Date.now() > deadline) throw new Error(`snapshot to peer ${opts.to} did not finish within ${opts.deadlineMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      seq++;
      bytes += data.length;
    }
    while (!opts.send({ k: 'snapEnd', index: info.zxid, term, bytes })) {
      if (Date.now() > deadline) throw new Error(`snapshot to peer ${opts.to} did not finish within ${opts.deadlineMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    opts.log.info({ peer: opts.to, zxid: info.zxid, znodes: info.znodes, bytes, ms: Date.now() - t0 }, 'snapshot sent to lagging peer');
    return { index: info.zxid, term };
  } finally {
    rmSync(file, { force: true });
  }
}

/** Follower side: collects chunks in order into a file; `finish` returns it once complete. */
export class SnapshotReceiver {
  private out?: WriteStream;
  private expected = 0;
  private received = 0;
  readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, 'snapshot-in.mdb');
  }

  chunk(seq: number, data: Uint8Array): void {
    if (seq === 0) {
      this.out?.destroy();
      rmSync(this.file, { force: true });
      this.out = createWriteStream(this.file);
      this.expected = 0;
      this.received = 0;
    }
    if (!this.out || seq !== this.expected) throw new Error(`snapshot chunk ${seq} out of order (expected ${this.expected})`);
    this.out.write(data);
    this.expected++;
    this.received += data.byteLength;
  }

  async finish(bytes: number): Promise<string> {
    const out = this.out;
    this.out = undefined;
    if (!out) throw new Error('snapshot end without chunks');
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (this.received !== bytes) throw new Error(`snapshot truncated: ${this.received} of ${bytes} bytes`);
    return this.file;
  }

  discard(): void {
    this.out?.destroy();
    this.out = undefined;
    rmSync(this.file, { force: true });
  }
}
