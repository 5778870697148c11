// Remembers, across restarts, that a member started with an empty consensus log and how far it had caught up
// (core/amnesia.ts): after a restart its log is no longer empty, and without this it would vote before holding what
// it may have lost.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CatchUp } from './core/index.js';

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
  const fd = openSync(`${file}.tmp`, 'w');
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${file}.tmp`, file);
  const dir = openSync(dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** Losing this removal to a crash only keeps the member careful until it catches up again. */
export function clearEmptyStart(dataDir: string): void {
  rmSync(markFile(dataDir), { force: true });
}
