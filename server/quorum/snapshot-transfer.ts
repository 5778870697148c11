// Catching up a peer that is behind the leader's log: the leader ships a consistent copy of its LMDB state
// (Store.backupTo) in bounded chunks over the peer channel; the follower writes it to a file and installs it.
// The engine's two ends: SnapshotShipper answers the core's 'snap' messages, installSnapshot installs a stream.
import { createReadStream, createWriteStream, openSync, readdirSync, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from '../../storage/store.js';
import { RaftLog } from '../../storage/raft-log.js';
import type { Message } from './core/index.js';
import type { PeerTransport } from './transport.js';

export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/** A snapshot file in transit and the lock file LMDB puts beside it when it is opened (`<file>-lock`). */
function removeSnapshotFile(file: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}-lock`, { force: true });
}

/** The files of transfers a crash cut short (a leader's copy being sent, a follower's being received). */
const IN_TRANSIT = /^snapshot-(out-\d+|in)\.mdb(-lock)?$/;

/**
 * At start: removes what transfers cut short by a crash left in `dataDir`. A leader's copy is the size of its store,
 * and nothing else would ever remove it.
 */
export function removeSnapshotsInTransit(dataDir: string, log: Logger): void {
  const left = readdirSync(dataDir).filter((f) => IN_TRANSIT.test(f));
  for (const f of left) rmSync(join(dataDir, f), { force: true });
  if (left.length > 0) log.info({ files: left }, 'removed the files of snapshot transfers a stop cut short');
}

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
  removeSnapshotFile(file);
  try {
    const t0 = Date.now();
    const info = await opts.store.backupTo(file);
    // From the copy itself: the log may have been compacted past the copy's zxid while a large copy was made, and
    // asking the log then failed every attempt (each after writing a whole copy) for as long as writes went on.
    const term = info.term ?? opts.termOf(info.zxid);
    let seq = 0;
    let bytes = 0;
    const deadline = performance.now() + opts.deadlineMs;
    // The peer queue is bounded: wait for it to drain rather than drop a frame of the stream.
    const deliver = async (frame: SnapshotFrame) => {
      for (;;) {
        if (!opts.stillLeader()) throw new Error(`stopped the snapshot to peer ${opts.to}: no longer the leader that began it`);
        if (opts.send(frame)) return;
        if (performance.now() > deadline) throw new Error(`snapshot to peer ${opts.to} did not finish within ${opts.deadlineMs} ms`);
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
    removeSnapshotFile(file);
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
      removeSnapshotFile(this.file);
      // Opened here, not by the stream: a stream opens its file later, off the event loop, so a stream superseded
      // just after it began could open (and truncate) the path after its successor had written there.
      this.out = createWriteStream('', { fd: openSync(this.file, 'w') });
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

  /** Takes a frame from peer `from`; true when it ends the stream being collected, which is then to be finished. */
  take(frame: SnapshotFrame, from: number, log: Logger): boolean {
    if (frame.k === 'snapEnd') {
      if (this.current(frame.sid)) return true;
      log.info({ from, sid: frame.sid }, 'ignoring the end of a snapshot stream that is not the one being received');
      return false;
    }
    try {
      if (!this.chunk(frame.sid, frame.lterm, frame.seq, frame.data)) log.debug({ from, sid: frame.sid }, 'ignoring a chunk of another snapshot stream');
    } catch (e) {
      log.warn({ err: e }, 'snapshot stream broken; waiting for the leader to resend');
      this.discard();
    }
    return false;
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
    removeSnapshotFile(this.file);
  }
}

/** What the leader's side reads of the engine at the moment it needs it (an install replaces the core). */
export interface Leadership {
  leading(): boolean;
  term(): number;
  termOf(index: number): number;
  reportSnapshot(to: number, delivered: boolean): void;
  /** Runs the engine's Ready loop again (the core has news once a snapshot is reported). */
  kick(): void;
}

/** Leader side: answers the core's 'snap' messages, one stream at a time per peer. */
export class SnapshotShipper {
  private readonly sending = new Set<number>();
  /** Streams this node has begun, for their ids. */
  private streams = 0;

  constructor(
    private readonly store: Store,
    private readonly cfg: Config,
    private readonly transport: PeerTransport,
    private readonly log: Logger,
    private readonly leader: Leadership,
  ) {}

  async ship(m: Extract<Message, { type: 'snap' }>): Promise<void> {
    if (this.sending.has(m.to)) return;
    this.sending.add(m.to);
    const leader = this.leader;
    const leaderTerm = leader.term();
    try {
      const { index, term } = await sendSnapshot({
        store: this.store,
        dataDir: this.cfg.dataDir,
        to: m.to,
        sid: `${this.cfg.myid}:${leaderTerm}:${++this.streams}`,
        lterm: leaderTerm,
        send: (f) => this.transport.send(m.to, f),
        termOf: (i) => leader.termOf(i),
        stillLeader: () => leader.leading() && leader.term() === leaderTerm,
        deadlineMs: this.cfg.initLimit * this.cfg.tickTime,
        log: this.log,
      });
      if (!leader.leading()) throw new Error('lost leadership while streaming the snapshot');
      // The copy was taken at `index`, which may be past the compaction point the core offered.
      const snapshot = { metadata: { ...m.snapshot.metadata, index, term }, data: new Uint8Array(0) };
      this.transport.send(m.to, { k: 'raft', m: { ...m, snapshot } });
      leader.reportSnapshot(m.to, true);
    } catch (e) {
      this.log.warn({ err: e, peer: m.to }, 'sending a snapshot failed');
      leader.reportSnapshot(m.to, false);
    } finally {
      this.sending.delete(m.to);
      leader.kick();
    }
  }
}

/**
 * Follower side, once a stream is complete: makes the copy the tree, restarting the log at it in the same
 * transaction. False when the copy is older than `applied` (it is dropped).
 */
export async function installSnapshot(
  opts: { store: Store; raftLog: RaftLog; receiver: SnapshotReceiver; log: Logger; applied: number },
  sid: string,
  index: number,
  term: number,
  bytes: number,
): Promise<boolean> {
  const { store, raftLog, receiver, log, applied } = opts;
  const file = await receiver.finish(sid, bytes);
  // A copy older than what we applied (e.g. from a deposed leader, arriving late) must not roll us back.
  if (index <= applied) {
    log.info({ zxid: index, applied }, 'ignoring a snapshot older than the applied state');
    receiver.discard();
    return false;
  }
  log.info({ zxid: index, bytes }, 'installing snapshot from the leader');
  // Applied writes still on their way into LMDB go first: the pending layer must not show them over the copy.
  await store.appliedCommitted();
  const mirrors: (() => void)[] = [];
  // The log restarts at the snapshot in the same transaction that completes the tree, with the commit
  // index moved up to it, so a crash right after leaves a state a restart accepts.
  const got = await store.replaceTreeFrom(file, () => {
    mirrors.push(raftLog.restartAt(index, term, Math.max(raftLog.hardState().commit, index)));
  });
  for (const m of mirrors) m();
  if (got.zxid !== index) throw new Error(`snapshot holds zxid ${got.zxid}, the leader announced ${index}`);
  return true;
}

/**
 * Before the tree is opened, after an install was cut short (Store.installInterrupted): the tree is a mix of
 * old and new state, so it starts from nothing (keeping term and vote) and the leader sends a fresh copy.
 */
export async function discardInterruptedInstall(store: Store, raftLog: RaftLog, log: Logger): Promise<void> {
  log.warn('an interrupted snapshot install was found; discarding local state to fetch it again');
  await store.wipeTree();
  const mirrors: (() => void)[] = [];
  await store.writeDurably(() => {
    mirrors.push(raftLog.restartAt(0, 0, 0));
    store.clearInstallMark();
  });
  // The engine goes on with this log: its memory must say what LMDB now holds.
  for (const m of mirrors) m();
}
