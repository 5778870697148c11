// How the engine makes each Ready durable and applies it: one record in the consensus write-ahead log for a Ready
// that must sync, then its log writes and committed entries in one write-behind group of the store (the storage
// contract's one atomic write, server/quorum/README.md); the log's replay at start, its release as LMDB flushes, and
// its retirement at a clean stop.
import type { Store } from '../../storage/store.js';
import type { RaftLog } from '../../storage/raft-log.js';
import { DEFAULT_WAL_OPTIONS, Wal } from '../../storage/wal.js';
import { consensusWalDir, READY_CODEC, type ReadyRecord } from '../../storage/ready-codec.js';
import { MAX_UNCOMMITTED_TXNS, type Committed } from '../pipeline.js';
import type { HardState, Ready } from './core/index.js';
import { persistReady, replayReadyLog } from './persist.js';

export class ReadyWriter {
  /**
   * Each Ready that must be durable before its messages leave (new entries, a new term or vote) is one record here,
   * numbered from 1 up; LMDB notes the number of the last it holds (raft.walSeq) in the write-behind group that
   * carries it, and a restart replays the records past that into the log (replay).
   */
  readonly wal: Wal<ReadyRecord>;
  private seq = 0;
  /** Term and vote last made durable: a Ready whose hard state changes only the commit index needs no sync. */
  private durableVote: Pick<HardState, 'term' | 'vote'> = { term: 0, vote: 0 };

  constructor(
    private readonly store: Store,
    dataDir: string,
    private readonly onFatal: (e: unknown) => void,
  ) {
    this.wal = Wal.open<ReadyRecord>(consensusWalDir(dataDir), { ...DEFAULT_WAL_OPTIONS, codec: READY_CODEC });
  }

  /** Before the core starts: the records LMDB lacks go back into `raftLog`; returns how many there were. */
  async replay(raftLog: RaftLog): Promise<number> {
    const { records, lastSeq } = await replayReadyLog(this.store, this.wal, raftLog);
    this.seq = lastSeq;
    return records;
  }

  /** The log the core starts over: its hard state is durable. */
  startFrom(hard: HardState): void {
    this.durableVote = { term: hard.term, vote: hard.vote };
  }

  /**
   * Makes `rd` durable and applies its committed entries past `applied` (see persistReady for what it collects);
   * runs the log's mirror updates; returns the index applied up to. Resolves once the Ready is durable.
   */
  async write(raftLog: RaftLog, rd: Ready, applied: number, terms: { index: number; term: number }[], done: Committed[]): Promise<number> {
    const mirrors: (() => void)[] = [];
    if (rd.snapshot) {
      // Rare (the snapshots this engine installs come out of band): one durable transaction of its own, after
      // every write-behind group, so LMDB then holds every record appended so far.
      const seq = this.seq;
      await this.store.writeDurably((view, setLastZxid) => {
        applied = persistReady(raftLog, rd, view, applied, mirrors, terms, done);
        setLastZxid(applied);
        this.store.metaPut('raft.walSeq', seq);
      });
      for (const m of mirrors) m();
      return applied;
    }
    if (rd.entries.length === 0 && !rd.hardState && rd.committedEntries.length === 0) return applied;
    const hard = rd.hardState;
    const mustSync = rd.entries.length > 0 || (hard !== null && (hard.term !== this.durableVote.term || hard.vote !== this.durableVote.vote));
    if (mustSync) {
      await this.wal.append([{ zxid: ++this.seq, value: { entries: rd.entries, hard, reset: null } }]);
      if (hard) this.durableVote = { term: hard.term, vote: hard.vote };
    }
    // Entries and applied transactions not yet in LMDB are held in memory (RaftLog's unwritten, the pending layer).
    if (this.store.pendingTxns >= MAX_UNCOMMITTED_TXNS) await this.store.appliedCommitted();
    const seq = this.seq;
    const commit = this.store.applyPending(rd.entries.length + rd.committedEntries.length, (view, setLastZxid, raw) => {
      applied = persistReady(raftLog, rd, view, applied, mirrors, terms, done, raw);
      setLastZxid(applied);
      if (mustSync) raw(this.store.metaDb, 'raft.walSeq', seq);
    });
    for (const m of mirrors) m();
    const gen = raftLog.writeGen;
    commit.then(
      () => {
        raftLog.landed(gen);
        this.wal.releaseWhen(() => this.store.flushed(), seq, this.onFatal);
      },
      (e: unknown) => this.onFatal(e),
    );
    return applied;
  }

  /** After the last Ready: everything the log holds is in LMDB once it is flushed, so the next start replays nothing. */
  async retire(): Promise<void> {
    await this.store.appliedCommitted();
    await this.store.flushed();
    await this.wal.retire();
  }
}
