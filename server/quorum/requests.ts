// A client's write or linearizable read as this member serves it: the write placed in the leader's log (proposed here
// with the turn's batch, or forwarded, and placed again if the leader moved) and awaited; the read's read index.
import { randomBytes } from 'node:crypto';
import { ZkError } from '../errors.js';
import type { Config } from '../config.js';
import type { ApplyResult, Txn } from '../tree/types.js';
import type { RawNode } from './core/index.js';
import type { PeerTransport } from './transport.js';
import { MAX_PENDING_READ_INDEX } from './engine-config.js';
import { Forwards, LeaderMoved } from './forwards.js';
import { ProposalBatch } from './proposals.js';
import { sessionOfTxn } from '../session-epochs.js';
import type { ZkWaiters } from './waiters.js';

const READ_INDEX_FULL = `${MAX_PENDING_READ_INDEX} linearizable reads and syncs already wait for a read index here`;

/** What requests read of the engine at the moment they need it (an install replaces the core). */
export interface RequestSide {
  stopping(): boolean;
  leading(): boolean;
  leaderId(): number;
  rawnode(): RawNode;
  /** Has the engine handle the core's next Ready. */
  kick(): void;
  /** Throws when a write's session has moved past its epoch (server/session-epochs.ts); asked only while leading. */
  admitSessionEpoch(session: string, epoch: number | undefined): void;
}

export class Requests {
  readonly forwards: Forwards;
  /** Leader: proposals gathered in one turn of the event loop, proposed together (one append per follower for all). */
  readonly proposals: ProposalBatch;

  constructor(
    private readonly cfg: Config,
    private readonly transport: PeerTransport,
    private readonly waiters: ZkWaiters,
    private readonly side: RequestSide,
  ) {
    this.forwards = new Forwards(transport, cfg);
    this.proposals = new ProposalBatch(cfg, () => this.flushProposals());
  }

  get pending(): number {
    return this.waiters.size + this.forwards.size + this.proposals.size;
  }

  async submit(txn: Txn, epoch?: number): Promise<{ zxid: number; result: ApplyResult }> {
    if (this.side.stopping()) throw new ZkError('ConnectionLoss', 'server is shutting down', { applied: false });
    if (this.pending >= this.cfg.maxPendingWrites) throw new ZkError('ConnectionLoss', `too many writes in flight (${this.cfg.maxPendingWrites})`, { applied: false });
    const { index, term } = await this.place(txn, epoch);
    const result = await this.waiters.wait(index, term, this.cfg.proposalTimeoutMs);
    return { zxid: index, result };
  }

  /** Gets the transaction into the leader's log: proposes here, or forwards to the leader. */
  private async place(txn: Txn, epoch: number | undefined): Promise<{ index: number; term: number }> {
    const deadline = performance.now() + this.cfg.leaderWaitMs;
    for (;;) {
      if (this.side.leading()) {
        this.side.admitSessionEpoch(sessionOfTxn(txn), epoch);
        const r = await this.proposals.add(txn, this.side.leaderId());
        if (r.ok) return { index: r.firstIndex, term: r.term };
        if (r.reason === 'queue-full') throw new ZkError('ConnectionLoss', 'the leader has too many uncommitted writes', { applied: false });
      } else if (this.side.leaderId() !== 0 && this.transport.isConnected(this.side.leaderId())) {
        try {
          return await this.forwards.forward(this.side.leaderId(), txn, epoch);
        } catch (e) {
          // Never proposed (a leader handing over on a graceful stop, or one that just lost its leadership): placed
          // again with the next leader within the same wait, so the client sees no 503 for a leader change.
          if (!(e instanceof LeaderMoved) || performance.now() >= deadline) throw e;
        }
      }
      if (performance.now() >= deadline) throw new ZkError('ConnectionLoss', 'no leader is known (no quorum?)', { applied: false });
      await new Promise((r) => setTimeout(r, this.cfg.raftTickMs));
    }
  }

  private flushProposals(): void {
    if (this.proposals.flush(this.side.rawnode())) this.side.kick();
  }

  async readBarrier(purpose = 'linearizable read'): Promise<number> {
    if (this.waiters.pendingReads >= MAX_PENDING_READ_INDEX) throw new ZkError('ConnectionLoss', `${purpose} refused: ${READ_INDEX_FULL}`, { applied: false });
    const ctx = randomBytes(8);
    const r = this.side.rawnode().readIndex(ctx);
    if (!r.ok) {
      const why = r.reason === 'no-leader' ? 'no leader is known (no quorum?)' : r.reason === 'queue-full' ? READ_INDEX_FULL : r.reason;
      throw new ZkError('ConnectionLoss', `${purpose} refused: ${why}`, { applied: false });
    }
    this.side.kick();
    return this.waiters.waitRead(ctx.toString('hex'), this.cfg.proposalTimeoutMs);
  }
}
