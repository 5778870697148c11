// ZooKeeper's "session moved" for HTTP: a client that gives up on one node and goes on through another must not have
// a request it left behind applied later (one a paused node read from its socket on waking, say): the SDK's protected
// create would then leave a second lock node its session owns and nobody deletes. The client numbers where it sends
// its requests (ZK-Session-Epoch, raised whenever it moves); the node that places writes in the log (standalone, or
// the leader) refuses a write whose epoch is below one a request of the same session already carried, as
// ZooKeeper's leader refuses a request from a server the session has moved away from (SessionMovedException).
//
// Two places keep it. The node that places writes remembers each session's highest epoch and refuses a stale write
// before it reaches the log (SessionEpochs). Each write also carries its epoch in its transaction, and apply, on every
// replica alike, refuses it when the session's record holds a higher one and raises the record otherwise
// (admitInRecord): a new leader, or a standalone node after a restart, starts with an empty memory but the same
// records, so a write left behind is still refused after a leader change.
import { ZkError } from './errors.js';
import type { Txn } from './tree/types.js';
import type { TreeView } from '../storage/view.js';

/** The highest valid ZK-Session-Epoch: a JSON-safe integer. */
export const MAX_SESSION_EPOCH = Number.MAX_SAFE_INTEGER;

export class SessionEpochs {
  private readonly highest = new Map<string, number>();

  /** `limit`: sessions remembered at most (maxSessions); past it the longest-unseen one is forgotten. */
  constructor(private readonly limit: number) {}

  /** Throws (503 ConnectionLoss, applied:false) when `session` has moved past `epoch`; else remembers it. */
  admit(session: string, epoch: number | undefined): void {
    if (!session || epoch === undefined) return;
    const seen = this.highest.get(session);
    if (seen !== undefined && epoch < seen) throw movedOn(session, epoch, seen);
    // Re-inserted, so that Map order is last-seen order and the oldest is evicted first.
    this.highest.delete(session);
    this.highest.set(session, epoch);
    if (this.highest.size > this.limit) this.highest.delete(this.highest.keys().next().value as string);
  }

  forget(session: string): void {
    this.highest.delete(session);
  }
}

/** The refusal of a write whose epoch is below `seen` (503 ConnectionLoss, applied:false, and the epoch to use). */
export function movedOn(session: string, epoch: number, seen: number): ZkError {
  return new ZkError('ConnectionLoss', `session ${session} has moved on: this write's ZK-Session-Epoch ${epoch} is below ${seen}, which a later request of the session carried; it was not applied`, { applied: false, sessionEpoch: seen });
}

/**
 * Apply's check of a write's epoch against its session's record: throws movedOn when the record holds a higher one,
 * else raises the record to it. The raise is a write of the transaction's own, kept only if the transaction succeeds.
 */
export function admitInRecord(view: Pick<TreeView, 'getSession' | 'putSession'>, session: string, epoch: number): void {
  const rec = view.getSession(session);
  if (!rec) return; // a closed or unknown session: the write meets its own error (or none) as before
  const seen = rec.epoch ?? 0;
  if (epoch < seen) throw movedOn(session, epoch, seen);
  if (epoch > seen) view.putSession({ ...rec, epoch });
}

/** The session a client's write was made in ('' for none, and for the node's own transactions). */
export function sessionOfTxn(txn: Txn): string {
  return 'session' in txn && typeof txn.session === 'string' ? txn.session : '';
}
