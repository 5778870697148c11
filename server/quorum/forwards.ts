// Writes a follower forwards to the leader (followers do not propose): the follower waits, by request id, for the
// leader to say where in its log the write landed; the leader proposes it and answers with that or its refusal.
// A leader that takes batches says so in its answers (`b`); from then on the follower sends the writes of one turn
// of the event loop in one frame (`fwds`), answered in one (`fwdAns`): a peer frame is encoded and HMAC'd on both
// sides, which per write cost the members more than the rest of forwarding. A leader of an older release never
// says so, so it only ever gets single forwards; an older follower never sends batches.
import { ZkError } from '../errors.js';
import type { Config } from '../config.js';
import type { Txn } from '../tree/types.js';
import { decodeTxn, encodeTxn } from '../../storage/txn-codec.js';
import type { PeerTransport } from './transport.js';
import type { ProposalBatch } from './proposals.js';
import { sessionOfTxn } from '../session-epochs.js';

type Answer = { rid: number; index: number; term: number } | { rid: number; message: string };

/** A forwarded write: `ep` is its request's ZK-Session-Epoch (absent without one, and from an older release). */
type Forwarded = { rid: number; txn: Uint8Array; ep?: number };

export type ForwardFrame =
  | ({ k: 'fwd' } & Forwarded)
  | { k: 'fwdOk'; rid: number; index: number; term: number; b?: 1 }
  | { k: 'fwdErr'; rid: number; message: string; b?: 1 }
  | { k: 'fwds'; items: Forwarded[] }
  | { k: 'fwdAns'; items: Answer[] };

/** Bounds of one batch frame: the writes of a turn beyond them go in further frames (one write may exceed the bytes). */
export const FORWARD_BATCH_MAX = 1000;
const FORWARD_BATCH_BYTES = 1 << 20;

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
  private readonly waiting = new Map<number, { to: number; resolve: (v: { index: number; term: number }) => void; reject: (e: unknown) => void }>();
  /** Leaders known (on their current link) to take batches. */
  private readonly batching = new Set<number>();
  /** Peers that said goodbye on their current link: nothing more is forwarded to them there. */
  private readonly stopped = new Set<number>();
  /** Writes of this turn for a leader that takes batches, sent together at its end. */
  private batch: { leaderId: number; items: Forwarded[] } | null = null;

  constructor(
    private readonly transport: PeerTransport,
    private readonly cfg: Pick<Config, 'proposalTimeoutMs'>,
  ) {
    // A new link may lead to another process (a restart, maybe of an older release): it says again whether it batches.
    for (const ev of ['up', 'down'] as const) {
      transport.on(ev, (id: number) => {
        this.batching.delete(id);
        this.stopped.delete(id);
      });
    }
  }

  get size(): number {
    return this.waiting.size;
  }

  /** Resolves with the index and term at which the leader proposed `txn`. */
  forward(leaderId: number, txn: Txn, epoch?: number): Promise<{ index: number; term: number }> {
    if (this.stopped.has(leaderId)) return Promise.reject(new LeaderMoved('it stopped'));
    const rid = this.nextRid++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new ZkError('ConnectionLoss', `the leader did not accept the write within ${this.cfg.proposalTimeoutMs} ms`));
      }, this.cfg.proposalTimeoutMs);
      this.waiting.set(rid, {
        to: leaderId,
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      const item: Forwarded = epoch === undefined ? { rid, txn: encodeTxn(txn) } : { rid, txn: encodeTxn(txn), ep: epoch };
      if (this.batching.has(leaderId)) return this.queue(leaderId, item);
      if (!this.transport.send(leaderId, { k: 'fwd', ...item })) this.unreachable([rid]);
    });
  }

  private queue(leaderId: number, item: Forwarded): void {
    if (this.batch && this.batch.leaderId !== leaderId) this.sendBatch();
    if (!this.batch) {
      this.batch = { leaderId, items: [] };
      setImmediate(() => this.sendBatch());
    }
    this.batch.items.push(item);
  }

  /** Sends the turn's batch, in frames within FORWARD_BATCH_MAX writes and FORWARD_BATCH_BYTES. */
  private sendBatch(): void {
    const b = this.batch;
    this.batch = null;
    if (!b) return;
    let items: Forwarded[] = [];
    let bytes = 0;
    const send = () => {
      if (items.length > 0 && !this.transport.send(b.leaderId, { k: 'fwds', items })) this.unreachable(items.map((i) => i.rid));
      items = [];
      bytes = 0;
    };
    for (const it of b.items) {
      if (items.length >= FORWARD_BATCH_MAX || (items.length > 0 && bytes + it.txn.byteLength > FORWARD_BATCH_BYTES)) send();
      items.push(it);
      bytes += it.txn.byteLength;
    }
    send();
  }

  private unreachable(rids: number[]): void {
    for (const rid of rids) {
      this.waiting.get(rid)?.reject(new ZkError('ConnectionLoss', 'the leader is unreachable', { applied: false }));
      this.waiting.delete(rid);
    }
  }

  /** The leader's answer to some of this follower's forwards. */
  answered(from: number, msg: Extract<ForwardFrame, { k: 'fwdOk' | 'fwdErr' | 'fwdAns' }>): void {
    if (msg.k === 'fwdAns') {
      if (Array.isArray(msg.items)) for (const a of msg.items) this.settle(a);
      return;
    }
    if (msg.b === 1) this.batching.add(from);
    this.settle(msg);
  }

  private settle(a: Answer): void {
    const w = this.waiting.get(a.rid);
    if (!w) return;
    this.waiting.delete(a.rid);
    if ('index' in a) w.resolve({ index: a.index, term: a.term });
    else w.reject(MOVED.has(a.message) ? new LeaderMoved(a.message) : refusal(a.message));
  }

  /**
   * `from` said goodbye (a graceful stop, after answering every forward it had read): what it has not answered it never
   * read, so never proposed, and is placed again with whichever member leads next instead of timing out as unknown.
   */
  peerStopped(from: number): void {
    this.stopped.add(from);
    if (this.batch?.leaderId === from) this.batch = null;
    for (const [rid, w] of this.waiting) {
      if (w.to !== from) continue;
      this.waiting.delete(rid);
      w.reject(new LeaderMoved('it stopped'));
    }
  }

  /** The server is shutting down: no answer will be waited for. */
  failAll(): void {
    for (const f of this.waiting.values()) f.reject(new ZkError('ConnectionLoss', 'server is shutting down'));
    this.waiting.clear();
  }
}

/** How the leader words a write refused because its session moved on (`sessionEpoch` is what the client must pass). */
const SESSION_MOVED = 'session-moved ';

function refusal(message: string): ZkError {
  if (message.startsWith(SESSION_MOVED)) {
    const seen = Number(message.slice(SESSION_MOVED.length));
    if (Number.isSafeInteger(seen)) return new ZkError('ConnectionLoss', `the leader refused the write: its session has moved on to ZK-Session-Epoch ${seen}; it was not applied`, { applied: false, sessionEpoch: seen });
  }
  return new ZkError('ConnectionLoss', `the leader refused the write: ${message}`, { applied: false });
}

/** The leader's check of a forwarded write's session epoch (server/session-epochs.ts); throws to refuse it. */
export type AdmitEpoch = (session: string, epoch: number | undefined) => void;

/** Leader side: proposes a follower's forwarded write (`proposals` is null when this node is not the leader) and answers. */
export function answerForward(transport: PeerTransport, from: number, msg: Extract<ForwardFrame, { k: 'fwd' }>, proposals: ProposalBatch | null, leaderId: number, admit: AdmitEpoch): Promise<void> {
  return propose(msg, proposals, leaderId, admit).then((a) => {
    if (a) transport.send(from, 'index' in a ? { k: 'fwdOk', ...a, b: 1 } : { k: 'fwdErr', ...a, b: 1 });
  });
}

/** Leader side: a follower's batch, proposed in the order sent and answered in one frame. */
export function answerForwards(transport: PeerTransport, from: number, msg: Extract<ForwardFrame, { k: 'fwds' }>, proposals: ProposalBatch | null, leaderId: number, admit: AdmitEpoch): Promise<void> {
  if (!Array.isArray(msg.items) || msg.items.length > FORWARD_BATCH_MAX) return Promise.resolve();
  return Promise.all(msg.items.map((it) => propose(it, proposals, leaderId, admit))).then((answers) => {
    const items = answers.filter((a): a is Answer => a !== null);
    if (items.length > 0) transport.send(from, { k: 'fwdAns', items });
  });
}

/** Where a forwarded write landed, or why it did not; null for one that does not decode (no answer: a peer's bug). */
async function propose(it: Forwarded, proposals: ProposalBatch | null, leaderId: number, admit: AdmitEpoch): Promise<Answer | null> {
  let txn: Txn;
  try {
    txn = decodeTxn(it.txn);
  } catch {
    return null;
  }
  if (!proposals) return { rid: it.rid, message: 'not-leader' };
  try {
    admit(sessionOfTxn(txn), typeof it.ep === 'number' && Number.isSafeInteger(it.ep) ? it.ep : undefined);
  } catch (e) {
    const seen = e instanceof ZkError ? e.sessionEpoch : undefined;
    return { rid: it.rid, message: seen === undefined ? (e as Error).message : `${SESSION_MOVED}${seen}` };
  }
  const r = await proposals.add(txn, leaderId);
  return r.ok ? { rid: it.rid, index: r.firstIndex, term: r.term } : { rid: it.rid, message: r.reason };
}
