// Public surface of the consensus core: what the ensemble (LMDB + TCP driver) and tests import.

export { RawNode } from './rawnode.js';
export type { ProgressStatus, Status, ProposalResult, ReadIndexResult, TransferResult } from './rawnode.js';
export { CONFIG_DEFAULTS, resolveConfig } from './config.js';
export type { Config, ConfigInput } from './config.js';
export { MemoryStorage, StorageError, emptySnapshot } from './storage.js';
export type { InitialState, Storage, StorageErrorCode } from './storage.js';
export { SeededRand, FixedRand } from './rand.js';
export type { Rand } from './rand.js';
export type { CatchUp } from './amnesia.js';
export { historyText } from './history.js';
export type { ForeignLeader } from './raft.js';
export * from './types.js';
