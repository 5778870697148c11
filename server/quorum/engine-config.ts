// What the engine's parts are built with, read from the server's Config: the peer channel's options, the
// members' roles, and the consensus core's settings.
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { SeededRand, type CatchUp, type ConfigInput, type ConfState } from './core/index.js';
import type { TransportOptions } from './transport.js';
import { sharedSettingsText } from './membership-check.js';

export function transportOptions(cfg: Config, log: Logger): TransportOptions {
  const me = cfg.myid as number;
  const self = cfg.servers.find((s) => s.id === me);
  if (!self) throw new Error(`no server.${me} line`);
  return {
    myId: me,
    listenHost: self.host,
    listenPort: self.peerPort,
    peers: cfg.servers.filter((s) => s.id !== me).map((s) => ({ id: s.id, host: s.host, port: s.peerPort })),
    membership: cfg.servers,
    sharedSettings: sharedSettingsText(cfg),
    secret: cfg.ensembleSecret as string,
    tls: cfg.peerTls,
    verifyHostnames: cfg.peerTlsVerifyHostname === true,
    ...peerBounds(cfg),
    log,
  };
}

/**
 * The peer channel's frame and queue bounds. A log entry travels to the followers whole, in one frame, and holds a
 * whole request (up to jute.maxbuffer, plus what it encodes to). An entry larger than either bound could never
 * replicate, and every write after it would wait behind it for good, so a raised jute.maxbuffer raises both.
 */
export function peerBounds(cfg: Pick<Config, 'juteMaxBuffer' | 'peerMaxFrameBytes' | 'peerMaxQueueBytes'>): { maxFrameBytes: number; maxQueueBytes: number } {
  const maxFrameBytes = Math.max(cfg.peerMaxFrameBytes, 2 * cfg.juteMaxBuffer + (1 << 20));
  return { maxFrameBytes, maxQueueBytes: Math.max(cfg.peerMaxQueueBytes, 2 * maxFrameBytes) };
}

/**
 * Linearizable reads and syncs one node holds waiting for a read index: the leader's queue of them (the core's
 * maxPendingReadIndex) and a follower's reads waiting for the leader's answer alike. A follower's reads all go to
 * the leader, which could hold no more, so past it a read is refused at once instead of waiting out its timeout.
 */
export const MAX_PENDING_READ_INDEX = 4096;

/** Voters and learners as the server.N lines name them (participants and observers). */
export function votersAndLearners(cfg: Config): ConfState {
  const voters = cfg.servers.filter((s) => s.role === 'participant').map((s) => s.id);
  const learners = cfg.servers.filter((s) => s.role === 'observer').map((s) => s.id);
  return { voters, learners };
}

/** The core's settings over a log whose configuration is `conf`, with `applied` already in the tree. */
export function coreConfig(cfg: Config, conf: ConfState, applied: number, catchingUp: CatchUp | null): ConfigInput {
  return {
    id: cfg.myid as number,
    voters: conf.voters,
    learners: conf.learners,
    electionTicks: cfg.electionTicks,
    heartbeatTicks: cfg.heartbeatTicks,
    preVote: true,
    checkQuorum: true,
    maxPendingReadIndex: MAX_PENDING_READ_INDEX,
    applied,
    catchingUp,
    rand: new SeededRand(randomInt(2 ** 31)),
  };
}
