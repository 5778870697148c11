// The write-ahead log of a standalone node. A transaction is durable once its record is written to a segment
// file through an O_DSYNC descriptor (the write returns once the data is on disk); LMDB then applies it without
// waiting for its own flush (overlappingSync) and flushes in the background. Appends that arrive while a write
// runs go out together in the next one, so one disk flush serves every writer of that moment. A segment is
// deleted once LMDB's flushed state is past it.
//
// The format of its records and segment files, and the scan that finds their valid records: storage/wal-segment.ts.
import { closeSync, openSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTxn, encodeTxn } from './txn-codec.js';
import { closeFd, encodeRecord, fsyncPath, NAME, openForAppend, segmentName, syncAll, walkFile, wholeRecordAfter, writeAt } from './wal-segment.js';
import type { Txn } from '../server/tree/types.js';
import { makeDir } from './make-dir.js';
import { WalDamaged } from './wal-damaged.js';

export interface WalRecord<T> {
  zxid: number;
  value: T;
}

/** How a record's value becomes its payload and back. */
export interface WalCodec<T> {
  encode(value: T): Uint8Array;
  decode(payload: Buffer): T;
}

export interface WalOptions<T = unknown> {
  /** A segment is closed and a new one started once it holds this many bytes. */
  segmentBytes: number;
  /** Transactions (storage/txn-codec.ts) when absent. */
  codec?: WalCodec<T>;
}

export const DEFAULT_WAL_OPTIONS: WalOptions = { segmentBytes: 64 << 20 };

const TXN_CODEC: WalCodec<unknown> = { encode: (v) => encodeTxn(v as Txn), decode: (b) => decodeTxn(b) };

/**
 * The active segment is zero-filled this far ahead of its end, so that a group's synchronous write flushes data
 * only: appending to a file changes its size and block map, and on ext4 that makes every such flush a journal
 * commit, which also waits for other files' newly allocated blocks (LMDB's, here).
 */
const PREALLOCATE_BYTES = 8 << 20;
const ZEROS = Buffer.alloc(1 << 20);

interface Segment {
  first: number;
  /** first - 1 while empty. */
  last: number;
  file: string;
  /** Bytes of valid records (where the next append goes, for the active segment). */
  end: number;
  /** Bytes of the file known to be allocated (zero-filled ahead of `end`). */
  allocated: number;
  /** Where some records start (every MARK_EVERY-th found when the segment was scanned at open), in zxid order. */
  marks: { zxid: number; offset: number }[];
}

interface Queued {
  /** The encoded records, concatenated only once, when their group is written. */
  bufs: Buffer[];
  first: number;
  last: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Every this many records, a scanned segment remembers where one starts, so that a replay reads from near its first. */
const MARK_EVERY = 1024;

export class Wal<T = unknown> {
  private readonly segments: Segment[] = [];
  private readonly codec: WalCodec<T>;
  private fd: number | null = null;
  private queue: Queued[] = [];
  private flushing = false;
  private failed: unknown = null;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private releasing = false;
  /** The zero-fill begun at open, while it runs (see fillAheadAtOpen). */
  private filling: Promise<void> | null = null;
  /** Told the seconds each durable write took, for the fsync histogram. */
  flushObserver?: (seconds: number) => void;

  private constructor(
    readonly dir: string,
    private readonly opts: WalOptions<T>,
  ) {
    this.codec = opts.codec ?? (TXN_CODEC as WalCodec<T>);
    makeDir(dir);
    const names = readdirSync(dir)
      .map((n) => NAME.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ first: Number(m[1]), file: join(dir, m[0]) }))
      .sort((a, b) => a.first - b.first);
    for (const { first, file } of names) {
      let last = first - 1;
      const marks: Segment['marks'] = [];
      const end = walkFile(file, first, 0, Infinity, (z, _, at) => {
        last = z;
        if ((z - first) % MARK_EVERY === 0) marks.push({ zxid: z, offset: at });
      });
      this.segments.push({ first, last, file, end, allocated: end, marks });
    }
    // A torn tail is cut off, so that a shorter append over it cannot leave a stale whole record behind it. Damage
    // followed by whole records is not a torn tail: cutting there would drop acknowledged writes without a word.
    const active = this.segments[this.segments.length - 1];
    if (active && statSync(active.file).size > active.end) {
      const after = wholeRecordAfter(active.file, active.end, active.last);
      if (after) throw new WalDamaged(active.file, active.end, active.last, after);
      truncateSync(active.file, active.end);
      fsyncPath(active.file);
    }
    // While the rest of the node starts, so that its first append (an ensemble member's first vote) does not wait.
    if (active) this.fillAheadAtOpen(active);
  }

  /** Opens (creating if absent) the log in `dir` and finds where each segment's valid records end. */
  static open<T>(dir: string, opts: WalOptions<T> = DEFAULT_WAL_OPTIONS as WalOptions<T>): Wal<T> {
    return new Wal<T>(dir, opts);
  }

  /** Highest zxid in the log (0 when empty). */
  get lastZxid(): number {
    const s = this.segments[this.segments.length - 1];
    return s ? s.last : 0;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * The records after `after`, in order, in chunks of at most `chunk`. Throws when the log does not continue
   * from `after` (a record the store needs is missing) — replaying past a hole would corrupt the tree.
   */
  *recordsAfter(after: number, chunk = 1000): Generator<WalRecord<T>[]> {
    let expect = after + 1;
    let out: WalRecord<T>[] = [];
    for (const s of this.segments) {
      if (s.last <= after) continue;
      if (s.first > expect) throw new Error(`write-ahead log ${this.dir} is missing zxids ${expect}..${s.first - 1} (store is at ${after})`);
      // From the last mark at or before the first record wanted: the records LMDB already holds are not read again.
      let from = { zxid: s.first, offset: 0 };
      for (const m of s.marks) if (m.zxid <= expect) from = m;
      walkFile(s.file, from.zxid, from.offset, s.end, (zxid, payload) => {
        if (zxid < expect) return;
        out.push({ zxid, value: this.codec.decode(payload) });
        expect = zxid + 1;
      });
      while (out.length >= chunk) yield out.splice(0, chunk);
    }
    if (out.length > 0) yield out;
  }

  /**
   * Appends records with consecutive zxids; resolves once they are on disk. Records that do not continue the
   * log (the store moved past it) start a new segment, so a segment never holds a hole.
   */
  append(records: WalRecord<T>[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('write-ahead log is closed'));
    if (this.failed) return Promise.reject(this.failed);
    if (records.length === 0) return Promise.resolve();
    const bufs = records.map((r) => encodeRecord(r.zxid, r.value, this.codec));
    const first = (records[0] as WalRecord<T>).zxid;
    const last = (records[records.length - 1] as WalRecord<T>).zxid;
    return new Promise((resolve, reject) => {
      this.queue.push({ bufs, first, last, resolve, reject });
      if (!this.flushing) void this.flushLoop();
    });
  }

  /** Deletes every segment but the active one whose records are all at or below `zxid` (durable elsewhere). */
  release(zxid: number): void {
    while (this.segments.length > 1 && (this.segments[0] as Segment).last <= zxid) {
      const s = this.segments.shift() as Segment;
      rmSync(s.file, { force: true });
    }
  }

  /**
   * Deletes every segment but the active one whose records are all at or below `zxid` once `flushed` resolves (what
   * LMDB holds up to `zxid` is on disk then). One wait at a time: calls meanwhile are skipped, as a later one covers
   * them; none while only the active segment exists.
   */
  releaseWhen(flushed: () => Promise<void>, zxid: number, onError: (e: unknown) => void): void {
    if (this.releasing || this.segments.length < 2) return;
    this.releasing = true;
    flushed().then(
      () => {
        this.releasing = false;
        this.release(zxid);
      },
      onError,
    );
  }

  /**
   * Closes the log and deletes every segment: only once everything in it is durable elsewhere (a clean stop,
   * after LMDB's flush), so that the next start has nothing to scan.
   */
  async retire(): Promise<void> {
    await this.close();
    for (const s of this.segments.splice(0)) rmSync(s.file, { force: true });
  }

  /** Waits for queued appends, then closes the active segment. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.flushing) await new Promise<void>((r) => this.idleWaiters.push(r));
    if (this.filling) await this.filling;
    if (this.fd !== null) await closeFd(this.fd);
    this.fd = null;
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0 && !this.failed) {
        const group = this.queue.splice(0);
        try {
          await this.writeGroup(group);
          for (const q of group) q.resolve();
        } catch (e) {
          this.failed = e;
          for (const q of [...group, ...this.queue.splice(0)]) q.reject(e);
        }
      }
    } finally {
      this.flushing = false;
      for (const r of this.idleWaiters.splice(0)) r();
    }
  }

  /** Writes a group as few (synchronous-data) writes as segment boundaries allow: one per segment touched. */
  private async writeGroup(group: Queued[]): Promise<void> {
    let run: Queued[] = [];
    const writeRun = async () => {
      if (run.length === 0) return;
      const s = this.segments[this.segments.length - 1] as Segment;
      const bufs = run.flatMap((q) => q.bufs);
      const buf = bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs);
      const t0 = this.flushObserver ? performance.now() : 0;
      if (s.end + buf.length > s.allocated) await this.allocate(s, s.end + buf.length);
      const fd = this.fd ?? (this.fd = openForAppend(s.file));
      let off = 0;
      while (off < buf.length) off += await writeAt(fd, buf, off, buf.length - off, s.end + off);
      this.flushObserver?.((performance.now() - t0) / 1000);
      s.end += buf.length;
      s.last = (run[run.length - 1] as Queued).last;
      run = [];
    };
    for (const q of group) {
      const s = this.segments[this.segments.length - 1];
      const tail = run.length > 0 ? (run[run.length - 1] as Queued).last : s?.last;
      const continues = s !== undefined && q.first === (tail as number) + 1;
      if (!continues || (s.end >= this.opts.segmentBytes && s.last >= s.first)) {
        await writeRun();
        await this.startSegment(q.first);
      }
      run.push(q);
    }
    await writeRun();
  }

  private async startSegment(first: number): Promise<void> {
    if (this.fd !== null) await closeFd(this.fd);
    this.fd = null;
    const file = join(this.dir, segmentName(first));
    const active = this.segments[this.segments.length - 1];
    // An empty active segment is replaced rather than left behind as a file that names a zxid it lacks.
    if (active && active.last < active.first) {
      this.segments.pop();
      if (active.file !== file) rmSync(active.file, { force: true });
    }
    closeSync(openSync(file, 'w'));
    fsyncPath(this.dir);
    this.segments.push({ first, last: first - 1, file, end: 0, allocated: 0, marks: [] });
  }

  /**
   * Starts zero-filling the active segment in the background at open (a restart has just cut its zeros), so that the
   * first append after a start does not do it: that append was an ensemble member's first vote, and it waited 48–100
   * ms for the zero-fill while three members started together. Only at open: zero-filling ahead of the appends all
   * the time, from half of PREALLOCATE_BYTES left on, measured 7 % fewer sets on a standalone node (11 alternating
   * pairs, inside this VM's spread but mostly on one side), so appends otherwise zero-fill as they run out of room. A
   * failure here is not the log's: the append that finds too little room zero-fills itself, and fails the log if
   * the disk does.
   */
  private fillAheadAtOpen(s: Segment): void {
    const done = () => {
      this.filling = null;
    };
    this.filling = this.preallocate(s, s.end).then(done, done);
  }

  /** Room up to `upTo` in `s`: the zero-fill begun at open first, if it still runs, then more if that was short. */
  private async allocate(s: Segment, upTo: number): Promise<void> {
    if (this.filling) await this.filling;
    if (upTo > s.allocated) await this.preallocate(s, upTo);
  }

  /**
   * Zero-fills the segment up to at least `upTo` plus PREALLOCATE_BYTES, and makes the new size durable: through a
   * descriptor of its own without O_DSYNC, so that the megabytes of zeros take one fsync, not one per write.
   */
  private async preallocate(s: Segment, upTo: number): Promise<void> {
    const target = upTo + PREALLOCATE_BYTES;
    const fd = openSync(s.file, 'r+');
    try {
      let pos = s.allocated;
      while (pos < target) pos += await writeAt(fd, ZEROS, 0, Math.min(ZEROS.length, target - pos), pos);
      await syncAll(fd);
      s.allocated = pos;
    } finally {
      await closeFd(fd);
    }
  }
}
