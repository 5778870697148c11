// One server per dataDir. LMDB lets several processes write one environment, so a second server started on the same
// dataDir (another port, a second container on the same volume) would run beside the first, each numbering its own
// zxids into the same files. zkServer.sh guards against this with zookeeper_server.pid; zkgate keeps zkgate.pid
// itself, naming the process and when it started, so that a file left by a process that is gone (kill -9, a crash, a
// container restarted with the same pid) is taken over rather than blocking the restart.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDir } from './make-dir.js';

export const PID_FILE = 'zkgate.pid';

export class DataDirInUse extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`dataDir ${dataDir} is in use by another zkgate server (pid ${pid}, ${join(dataDir, PID_FILE)}): two servers on one dataDir would corrupt it`);
  }
}

/**
 * When `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22): '' where /proc is not there, 'gone' for a
 * process that has exited (a zombie, not yet reaped, still answers kill(pid, 0)).
 */
export function processStart(pid: number | 'self'): string {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat') ? 'gone' : '';
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')' itself: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' || fields[0] === 'X' ? 'gone' : (fields[19] ?? '');
}

/** Whether the process a pid file names is still the one that wrote it. */
function alive(pid: number, start: string): boolean {
  if (pid === process.pid) return false; // that process cannot be running: this one has its pid
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // A pid reused by another process since then (a reboot, a busy host) has another start time.
  const now = processStart(pid);
  return now !== 'gone' && (start === '' || now === start);
}

/** Takes `dataDir` for this process; throws DataDirInUse when a live server holds it. */
export function lockDataDir(dataDir: string): { release(): void } {
  makeDir(dataDir);
  const file = join(dataDir, PID_FILE);
  const mine = `${process.pid} ${processStart('self')}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      return {
        release() {
          try {
            if (readFileSync(file, 'utf8') === mine) rmSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let held: string;
    try {
      held = readFileSync(file, 'utf8');
    } catch {
      continue; // removed meanwhile: try again
    }
    const [pidText = '', start = ''] = held.trim().split(' ');
    const pid = Number(pidText);
    if (Number.isInteger(pid) && pid > 0 && alive(pid, start)) throw new DataDirInUse(dataDir, pid);
    rmSync(file, { force: true }); // left by a process that is gone, or unreadable: stale
  }
  throw new Error(`could not create ${file}: another process keeps replacing it`);
}
