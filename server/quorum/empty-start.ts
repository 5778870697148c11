// Remembers, across restarts, that a member started with an empty consensus log and how far it had caught up
// (core/amnesia.ts): after a restart its log is no longer empty, and without this it would vote before holding what
// it may have lost.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CatchUp, RawNode } from './core/index.js';
import { fsyncPath } from '../../storage/wal-segment.js';

function markFile(dataDir: string): string {
  return join(dataDir, 'catching-up-from-empty');
}

/** The state a restart resumes; null when there is no mark (a mark that cannot be read stops the start). */
export function readEmptyStart(dataDir: string): CatchUp | null {
  let text: string;
  try {
    text = readFileSync(markFile(dataDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const v = JSON.parse(text) as { index?: unknown; term?: unknown };
    if (typeof v === 'object' && v !== null && Number.isSafeInteger(v.index) && Number.isSafeInteger(v.term)) return { index: v.index as number, term: v.term as number };
  } catch {
    // not JSON (written by hand?): the most careful reading that still lets a first election happen
  }
  return 'unheard';
}

/** Durable before the member votes on it, and whole (written aside, then renamed over the old one). */
export function writeEmptyStart(dataDir: string, state: CatchUp): void {
  const file = markFile(dataDir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  fsyncPath(`${file}.tmp`);
  renameSync(`${file}.tmp`, file);
  fsyncPath(dataDir);
}

/** Losing this removal to a crash only keeps the member careful until it catches up again. */
export function clearEmptyStart(dataDir: string): void {
  rmSync(markFile(dataDir), { force: true });
}

/** The engine's side of core/amnesia.ts: the mark, its order against the log's writes, and what it logs. */
export class EmptyStart {
  /** The state last made durable; null when this member is not catching up from an empty start. */
  private state: CatchUp | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {}

  /** The state made durable, which the core starts from (before it has changed anything). */
  get resumed(): CatchUp | null {
    return this.state;
  }

  /** At start, before the core exists (so before it can vote). */
  open(voting: boolean, logEmpty: boolean): void {
    const resumed = readEmptyStart(this.dataDir);
    if (!voting || (resumed === null && !logEmpty)) {
      if (resumed !== null) clearEmptyStart(this.dataDir);
      return;
    }
    this.state = resumed ?? 'unheard';
    if (resumed === null) writeEmptyStart(this.dataDir, this.state);
    this.log.info(
      { catchUp: this.state },
      resumed
        ? 'restarted before catching up after starting with an empty consensus log: still votes only for a candidate holding the log a leader had when it first reached this member (before that, only for one with an empty log), and does not campaign once reached'
        : 'the consensus log is empty (a new member, or one whose data was lost): until it has caught up, this member votes only for a candidate holding the log a leader had when it first reached this member (before that, only for one with an empty log), so that a member that lost acknowledged writes cannot help elect a leader without them',
    );
  }

  /**
   * Before a Ready's write: a target a leader just set is durable before the entries it came with (a crash between
   * must not leave them and no target: a restart would take the partial log for a caught-up one); likewise a won
   * election's end of it, before the leader's first entry.
   */
  beforeWrite(core: RawNode): void {
    if (this.state === 'unheard') this.record(core);
  }

  /** After the write, before the votes that depend on it leave: caught up yet? */
  afterWrite(core: RawNode): void {
    if (this.state === 'unheard') this.record(core);
    if (this.state !== null && core.catchUp() === null) this.done(core);
  }

  /** How this member limits its vote while it catches up; null otherwise. */
  voteLimit(core: RawNode): string | null {
    const c = this.state === null ? null : core.catchUp();
    if (c === null) return null;
    if (c === 'unheard') {
      return 'started with an empty consensus log (a new member, or one whose data was lost) and no leader has reached it yet: votes only for a candidate whose log is empty too';
    }
    return `started with an empty consensus log and catching up: votes only for a candidate holding zxid ${c.index} of term ${c.term} (the leader's log when it first reached this member), and does not campaign, until it holds it (its log ends at ${core.status().lastIndex})`;
  }

  private record(core: RawNode): void {
    const rec = core.catchUpRecorded();
    if (rec === 'unheard') return;
    if (rec === null) {
      this.done(core);
      return;
    }
    this.state = rec;
    writeEmptyStart(this.dataDir, rec);
    this.log.info({ catchUp: rec }, "reached by a leader after starting with an empty consensus log: catching up to that leader's log (catchUp.index)");
  }

  private done(core: RawNode): void {
    this.state = null;
    clearEmptyStart(this.dataDir);
    this.log.info({ lastIndex: core.status().lastIndex }, 'caught up with the leader after starting with an empty consensus log: votes again');
  }
}
