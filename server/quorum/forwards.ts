// Writes a follower forwards to the leader (followers do not propose): the follower waits, by request id, for the
// leader to say where in its log the write landed; the leader proposes it and answers with that or its refusal.
import { ZkError } from '../errors.js';
import type { Config } from '../config.js';
import type { Txn } from '../tree/types.js';
import { decodeTxn, encodeTxn } from '../../storage/txn-codec.js';
import type { PeerTransport } from './transport.js';
import type { ProposalBatch } from './proposals.js';

export type ForwardFrame =
  | { k: 'fwd'; rid: number; txn: Uint8Array }
  | { k: 'fwdOk'; rid: number; index: number; term: number }
  | { k: 'fwdErr'; rid: number; message: string };

/**
 * The leader refused a forwarded write because it no longer leads or is handing its leadership over: the write was
 * never proposed, so the follower places it again, with whichever member leads next.
 */
export class LeaderMoved extends ZkError {
  constructor(reason: string) {
    super('ConnectionLoss', `the leader refused the write: ${reason}`, { applied: false });
  }
}

/** Reasons a leader refuses a forward with that mean "not here, not now" rather than "not at all". */
const MOVED = new Set(['not-leader', 'transfer-in-progress']);

/** Follower side: the forwarded writes the leader has not answered yet. */
export class Forwards {
  private nextRid = 1;
  private readonly waiting = new Map<number, { resolve: (v: { index: number; term: number }) => void; reject: (e: unknown) => void }>();

  constructor(
    private readonly transport: PeerTransport,
    private readonly cfg: Pick<Config, 'proposalTimeoutMs'>,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Resolves with the index and term at which the leader proposed `txn`. */
  forward(leaderId: number, txn: Txn): Promise<{ index: number; term: number }> {
    const rid = this.nextRid++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new ZkError('ConnectionLoss', `the leader did not accept the write within ${this.cfg.proposalTimeoutMs} ms`));
      }, this.cfg.proposalTimeoutMs);
      this.waiting.set(rid, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      if (!this.transport.send(leaderId, { k: 'fwd', rid, txn: encodeTxn(txn) })) {
        this.waiting.delete(rid);
        clearTimeout(timer);
        reject(new ZkError('ConnectionLoss', 'the leader is unreachable', { applied: false }));
      }
    });
  }

  /** The leader's answer to one of this follower's forwards. */
  answered(msg: Extract<ForwardFrame, { k: 'fwdOk' | 'fwdErr' }>): void {
    if (msg.k === 'fwdOk') this.waiting.get(msg.rid)?.resolve({ index: msg.index, term: msg.term });
    else this.waiting.get(msg.rid)?.reject(MOVED.has(msg.message) ? new LeaderMoved(msg.message) : new ZkError('ConnectionLoss', `the leader refused the write: ${msg.message}`, { applied: false }));
    this.waiting.delete(msg.rid);
  }

  /** The server is shutting down: no answer will be waited for. */
  failAll(): void {
    for (const f of this.waiting.values()) f.reject(new ZkError('ConnectionLoss', 'server is shutting down'));
    this.waiting.clear();
  }
}

/** Leader side: proposes a follower's forwarded write (`proposals` is null when this node is not the leader) and answers. */
export function answerForward(transport: PeerTransport, from: number, msg: Extract<ForwardFrame, { k: 'fwd' }>, proposals: ProposalBatch | null, leaderId: number): void {
  let txn: Txn;
  try {
    txn = decodeTxn(msg.txn);
  } catch {
    return;
  }
  if (!proposals) {
    transport.send(from, { k: 'fwdErr', rid: msg.rid, message: 'not-leader' });
    return;
  }
  void proposals.add(txn, leaderId).then((r) => {
    if (r.ok) transport.send(from, { k: 'fwdOk', rid: msg.rid, index: r.firstIndex, term: r.term });
    else transport.send(from, { k: 'fwdErr', rid: msg.rid, message: r.reason });
  });
}
