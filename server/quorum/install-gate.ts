// A follower installing a snapshot its leader streamed. While it installs, the core must see nothing: its in-memory
// log describes the state being replaced. So one install runs at a time, the raft messages that arrive meanwhile are
// held (bounded; the rest are dropped, which Raft treats as loss and retransmits) and handed back afterwards, and a
// second stream's frames are dropped (it would overwrite the file being installed; the leader sends again if this
// node still needs one).
import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';
import type { RaftLog } from '../../storage/raft-log.js';
import { installSnapshot, type SnapshotReceiver } from './snapshot-transfer.js';

/** Bound on raft messages held while a snapshot installs (the rest are dropped; Raft retransmits). */
export const MAX_HELD_MESSAGES = 10000;

export interface InstallSide<M> {
  store: Store;
  raftLog(): RaftLog;
  receiver: SnapshotReceiver;
  log: Logger;
  /** What this node has applied: a snapshot at or below it is dropped. */
  applied(): number;
  /** Resolves once no Ready is being handled. */
  idle(): Promise<void>;
  /** The tree and the log are the snapshot's now: the caller starts its core afresh, as a restart would. */
  installed(index: number): void;
  fatal(e: unknown): void;
  /** A message held during the install, handed back once it ends. */
  redeliver(from: number, msg: M): void;
}

export class InstallGate<M> {
  private running = false;
  private held: [number, M][] = [];

  constructor(private readonly side: InstallSide<M>) {}

  get installing(): boolean {
    return this.running;
  }

  /** Keeps a raft message that arrived during an install, while there is room. */
  hold(from: number, msg: M): void {
    if (this.held.length < MAX_HELD_MESSAGES) this.held.push([from, msg]);
  }

  /** Installs the complete stream `sid` (announced at `index`, `term`, `bytes`); one at a time. */
  async install(sid: string, index: number, term: number, bytes: number): Promise<void> {
    const { store, receiver, log } = this.side;
    this.running = true;
    try {
      await this.side.idle();
      if (!(await installSnapshot({ store, raftLog: this.side.raftLog(), receiver, log, applied: this.side.applied() }, sid, index, term, bytes))) return;
      receiver.discard();
      this.side.installed(index);
      log.info({ zxid: index }, 'snapshot installed');
    } catch (e) {
      receiver.discard();
      // Failed after it began replacing the tree: what is left is neither state, and entries applied on top would
      // make it diverge. A restart discards it and fetches a whole copy (recover); until then no read is served.
      if (store.treeIncomplete) {
        log.error({ err: e }, 'snapshot install failed after it began replacing the tree; exiting, so that the restart fetches a whole copy');
        this.side.fatal(e);
        return;
      }
      log.error({ err: e }, 'snapshot install failed; the leader will resend');
    } finally {
      this.running = false;
      const held = this.held;
      this.held = [];
      for (const [from, m] of held) this.side.redeliver(from, m);
    }
  }
}
