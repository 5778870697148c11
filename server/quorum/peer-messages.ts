// What members say to each other once linked, and what each kind does on arrival (raft messages to the core,
// forwarded writes and their answers, session touches, snapshot streams); a Ready's raft messages leave here too.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EngineHooks } from '../engine.js';
import type { Store } from '../../storage/store.js';
import type { Message, RawNode } from './core/index.js';
import type { PeerTransport } from './transport.js';
import { answerForward, answerForwards, type ForwardFrame, type Forwards } from './forwards.js';
import type { ProposalBatch } from './proposals.js';
import { SnapshotShipper, type Leadership, type SnapshotFrame, type SnapshotReceiver } from './snapshot-transfer.js';
import type { InstallGate } from './install-gate.js';

export type PeerMsg = { k: 'raft'; m: Message } | ForwardFrame | { k: 'touch'; ids: string[] } | SnapshotFrame;

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

  constructor(private readonly side: PeerSide) {
    this.shipper = new SnapshotShipper(side.store, side.cfg, side.transport, side.log, side);
  }

  /** A message from `from`, handed to what handles its kind. */
  take(from: number, msg: PeerMsg): void {
    const side = this.side;
    const { gate, log } = side;
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
        answerForward(side.transport, from, msg, side.leading() ? side.proposals : null, side.leaderId());
        return;
      case 'fwds':
        answerForwards(side.transport, from, msg, side.leading() ? side.proposals : null, side.leaderId());
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
