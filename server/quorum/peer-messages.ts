// What members say to each other once linked, and what each kind does on arrival (raft messages to the core,
// forwarded writes and their answers, session touches, snapshot streams); a Ready's raft messages leave here too.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EngineHooks } from '../engine.js';
import type { Store } from '../../storage/store.js';
import type { Message, RawNode } from './core/index.js';
import type { PeerTransport } from './transport.js';
import { answerForward, answerForwards, type AdmitEpoch, type ForwardFrame, type Forwards } from './forwards.js';
import type { ProposalBatch } from './proposals.js';
import { SnapshotShipper, type Leadership, type SnapshotFrame, type SnapshotReceiver } from './snapshot-transfer.js';
import type { InstallGate } from './install-gate.js';

/** `bye`: the sender stops, having answered every forward it read (see farewell). Older releases ignore it. */
export type PeerMsg = { k: 'raft'; m: Message } | ForwardFrame | { k: 'touch'; ids: string[] } | SnapshotFrame | { k: 'bye' };

const MAX_TOUCHES_PER_MESSAGE = 10000;

/** What the peer messages reach of the engine, read at the moment they need it (an install replaces the core). */
export interface PeerSide extends Leadership {
  store: Store;
  cfg: Config;
  transport: PeerTransport;
  log: Logger;
  hooks: EngineHooks;
  gate: InstallGate<PeerMsg>;
  receiver: SnapshotReceiver;
  forwards: Forwards;
  proposals: ProposalBatch;
  rawnode(): RawNode;
  leaderId(): number;
  applied(): number;
  /** Leader: `from` acknowledged an append or heartbeat of this term just now. */
  acked(from: number): void;
}

export class PeerMessages {
  private readonly shipper: SnapshotShipper;
  /** Answers to forwarded writes not sent yet: a goodbye waits for them. */
  private readonly answering = new Set<Promise<void>>();
  /** Set by farewell: nothing a peer sends is taken from then on. */
  private closed = false;
  /** The leader's check of a forwarded write's session epoch (server/session-epochs.ts). */
  private readonly admitEpoch: AdmitEpoch = (session, epoch) => this.side.hooks.admitSessionEpoch?.(session, epoch);

  constructor(private readonly side: PeerSide) {
    this.shipper = new SnapshotShipper(side.store, side.cfg, side.transport, side.log, side);
  }

  /** A message from `from`, handed to what handles its kind. */
  take(from: number, msg: PeerMsg): void {
    const side = this.side;
    const { gate, log } = side;
    if (this.closed) return;
    if (gate.installing && msg.k === 'raft') return gate.hold(from, msg);
    // One install at a time (install-gate.ts): a second stream's frames are dropped.
    if (gate.installing && (msg.k === 'snapChunk' || msg.k === 'snapEnd')) return;
    switch (msg.k) {
      case 'raft':
        if (msg.m.to !== side.cfg.myid || msg.m.from !== from) return;
        // The core takes a snapshot offer as "the state up to its index is here"; that holds only if the stream
        // before it was installed. An offer whose stream failed or lost to another must not reach the core, or
        // the log would restart past a tree that never arrived. The leader sends again when this node still lags.
        if (msg.m.type === 'snap' && msg.m.snapshot.metadata.index > side.applied()) {
          log.warn({ from, zxid: msg.m.snapshot.metadata.index, applied: side.applied() }, 'ignoring a snapshot offer whose data was not installed');
          return;
        }
        // Only this leadership's acknowledgements count: one from an earlier term says nothing of the follower now.
        if ((msg.m.type === 'appResp' || msg.m.type === 'heartbeatResp') && side.leading() && msg.m.term === side.term()) {
          side.acked(from);
        }
        side.rawnode().step(msg.m);
        side.kick();
        return;
      case 'fwd':
        this.track(answerForward(side.transport, from, msg, side.leading() ? side.proposals : null, side.leaderId(), this.admitEpoch));
        return;
      case 'fwds':
        this.track(answerForwards(side.transport, from, msg, side.leading() ? side.proposals : null, side.leaderId(), this.admitEpoch));
        return;
      case 'bye':
        side.forwards.peerStopped(from);
        return;
      case 'fwdOk':
      case 'fwdErr':
      case 'fwdAns':
        side.forwards.answered(from, msg);
        return;
      case 'touch':
        if (side.leading()) side.hooks.touchSessions?.(msg.ids);
        return;
      case 'snapChunk':
      case 'snapEnd':
        if (side.receiver.take(msg, from, log) && msg.k === 'snapEnd') void gate.install(msg.sid, msg.index, msg.term, msg.bytes);
        return;
    }
  }

  private track(answer: Promise<void>): void {
    this.answering.add(answer);
    void answer.finally(() => this.answering.delete(answer));
  }

  /**
   * A graceful stop's last word to the peers: from now on nothing they send is read, and once every forward already
   * read is answered, `bye` tells them so. What they forwarded here and saw no answer to was then never proposed,
   * and they place it again with the next leader at once, rather than answering the client "unknown" after
   * proposalTimeoutMs. If the answers do not all go out within `ms`, no `bye` is sent: the peers' forwards time out
   * as unknown, which is the truth then.
   */
  async farewell(ms: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      Promise.all(this.answering).then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    if (answered) await this.side.transport.sendLast({ k: 'bye' } satisfies PeerMsg, ms);
  }

  /** A raft message of a Ready, sent: a snapshot offer goes by stream, after its data. */
  send(m: Message): void {
    if (m.type === 'snap') {
      void this.shipper.ship(m);
      return;
    }
    if (!this.side.transport.send(m.to, { k: 'raft', m }) && m.type === 'app') this.side.rawnode().reportUnreachable(m.to);
  }

  /** A follower's sessions touched since the last tick, sent to its leader, which expires sessions. */
  sendTouches(): void {
    const side = this.side;
    const ids = side.hooks.takeTouchedSessions?.() ?? [];
    if (ids.length > 0 && !side.leading() && side.leaderId() !== 0) {
      for (let i = 0; i < ids.length; i += MAX_TOUCHES_PER_MESSAGE) {
        side.transport.send(side.leaderId(), { k: 'touch', ids: ids.slice(i, i + MAX_TOUCHES_PER_MESSAGE) });
      }
    }
  }
}
