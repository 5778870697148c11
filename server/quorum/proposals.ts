// The leader's proposals, gathered in one turn of the event loop and proposed together: a burst of writes gives
// each follower one append (and one acknowledgement back) for the burst instead of one per write.
import type { Config } from '../config.js';
import type { Txn } from '../tree/types.js';
import { encodeTxn } from '../../storage/txn-codec.js';
import type { ProposalResult, RawNode } from './core/index.js';

/** The leader fixes the time of every transaction it logs, as ZooKeeper's leader does. */
function finalize(txn: Txn): Txn {
  return 'time' in txn ? { ...txn, time: Date.now() } : txn;
}

export class ProposalBatch {
  private queued: { data: Uint8Array; done: (r: ProposalResult) => void }[] = [];
  private scheduled = false;

  /** `flushSoon` runs at the end of the turn in which the first proposal was queued, and calls `flush`. */
  constructor(
    private readonly cfg: Pick<Config, 'maxPendingWrites'>,
    private readonly flushSoon: () => void,
  ) {}

  get size(): number {
    return this.queued.length;
  }

  /** Queues `txn` for the end of this turn of the event loop; resolves with where it landed (or why it did not). */
  add(txn: Txn, leaderId: number): Promise<ProposalResult> {
    if (this.queued.length >= this.cfg.maxPendingWrites) return Promise.resolve({ ok: false, reason: 'queue-full', leaderId });
    return new Promise((done) => {
      this.queued.push({ data: encodeTxn(finalize(txn)), done });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushSoon);
      }
    });
  }

  /** Proposes everything queued to `node`, one call for all when it fits; false when nothing was queued. */
  flush(node: RawNode): boolean {
    this.scheduled = false;
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return false;
    const r = node.propose(batch.map((p) => p.data));
    if (r.ok) {
      batch.forEach((p, i) => p.done({ ok: true, firstIndex: r.firstIndex + i, lastIndex: r.firstIndex + i, term: r.term }));
    } else if (r.reason === 'queue-full' && batch.length > 1) {
      // As when each was proposed on its own: those that still fit go in, the rest are refused.
      for (const p of batch) p.done(node.propose([p.data]));
    } else {
      for (const p of batch) p.done(r);
    }
    return true;
  }
}
