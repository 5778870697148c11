// Which of a Ready's messages may leave before its write is durable.
import type { HardState, Message, Ready, Role } from './core/index.js';

/**
 * A leader's appends and heartbeats may leave while its own copy is being fsync'd (Raft thesis §10.2.1): the core
 * counts the leader's entries towards a quorum only after advance(), i.e. once durable. Everything else (votes,
 * acknowledgements, read answers) waits for the write, as the contract says. So does all of a leader's Ready that
 * draws its history (core/history.ts): a crash before it is durable would draw another at the next win, and the
 * followers that took the first would be left with a history no leader has.
 */
export function earlySends(role: Role, rd: Ready, durable: HardState): Message[] {
  if (role !== 'leader') return [];
  if (rd.hardState !== null && (rd.hardState.history ?? 0) !== (durable.history ?? 0)) return [];
  return rd.messages.filter((m) => m.type === 'app' || m.type === 'heartbeat');
}
