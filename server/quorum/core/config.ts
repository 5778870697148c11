// Configuration of one consensus node: identity, initial membership, timing in ticks, and every
// flow-control bound, each defaulted here and validated once.

import assert from 'node:assert/strict';
import type { Rand } from './rand.js';
import type { CatchUp } from './amnesia.js';

export interface Config {
  /** This node's id: a positive integer, never reused. */
  id: number;
  /** Initial membership, used only when storage holds no configuration (a brand-new node). */
  voters: number[];
  learners: number[];
  /** Followers campaign after a random timeout in [electionTicks, 2*electionTicks). */
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Upper bound on the entry bytes in one append message (one entry is always allowed). */
  maxSizePerMsg: number;
  /** Appends in flight to one follower before the leader waits for acknowledgements. */
  maxInflightMsgs: number;
  /** Entry bytes in flight to one follower (0 = no byte bound). */
  maxInflightBytes: number;
  /** Proposed-but-uncommitted entry bytes on the leader before proposals are refused. */
  maxUncommittedBytes: number;
  /** Committed entry bytes handed out in one Ready (one entry is always allowed). */
  maxCommittedBytesPerReady: number;
  /** ReadIndex requests queued on the leader (awaiting quorum or a commit in its term). */
  maxPendingReadIndex: number;
  /** Index the application's state machine has already applied (restart with a durable state). */
  applied: number;
  /**
   * The host remembers that this node started with an empty log and had not caught up when it restarted: how far it
   * had got (amnesia.ts), so that its log, no longer empty, does not make it vote as if it had caught up.
   */
  catchingUp: CatchUp | null;
  rand: Rand;
}

export type ConfigInput = Pick<Config, 'id' | 'voters' | 'rand'> & Partial<Config>;

export const CONFIG_DEFAULTS = {
  learners: [] as number[],
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxSizePerMsg: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 32 * 1024 * 1024,
  maxUncommittedBytes: 64 * 1024 * 1024,
  maxCommittedBytesPerReady: 16 * 1024 * 1024,
  maxPendingReadIndex: 4096,
  applied: 0,
  catchingUp: null,
} as const;

export function resolveConfig(input: ConfigInput): Config {
  const config: Config = {
    ...CONFIG_DEFAULTS,
    learners: [...CONFIG_DEFAULTS.learners],
    ...input,
  };
  validateConfig(config);
  return config;
}

export function validateConfig(config: Config): void {
  assert.ok(Number.isSafeInteger(config.id) && config.id > 0, 'id must be a positive integer');
  for (const id of [...config.voters, ...config.learners]) {
    assert.ok(Number.isSafeInteger(id) && id > 0, `member id ${id} must be a positive integer`);
  }
  for (const learner of config.learners) {
    assert.ok(!config.voters.includes(learner), `node ${learner} cannot be both voter and learner`);
  }
  assert.ok(config.heartbeatTicks > 0, 'heartbeatTicks must be positive');
  assert.ok(config.electionTicks > config.heartbeatTicks, 'electionTicks must exceed heartbeatTicks');
  assert.ok(config.maxSizePerMsg > 0, 'maxSizePerMsg must be positive');
  assert.ok(config.maxInflightMsgs > 0, 'maxInflightMsgs must be positive');
  assert.ok(config.maxInflightBytes >= 0, 'maxInflightBytes must not be negative');
  assert.ok(config.maxUncommittedBytes > 0, 'maxUncommittedBytes must be positive');
  assert.ok(config.maxCommittedBytesPerReady > 0, 'maxCommittedBytesPerReady must be positive');
  assert.ok(config.maxPendingReadIndex > 0, 'maxPendingReadIndex must be positive');
  assert.ok(config.applied >= 0, 'applied must not be negative');
}
