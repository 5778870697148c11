// Child processes started as users start them, without the test runner's process tracking. tap puts its loader
// (@tapjs/processinfo) in NODE_OPTIONS and adds it again to every spawn, whatever env a test passes; in a zkgate child
// it turns source maps on and hooks every module load: a server took 1,280 ms instead of 590 to serve and a third more
// CPU under requests (0.7 s more for a start and 3,000 requests). Coverage is off, so nothing reads what it records.

/** `cmd args` as a command and arguments for spawn, run through env(1) with NODE_OPTIONS unset. */
export function untracked(cmd: string, args: readonly string[]): [string, string[]] {
  return ['/usr/bin/env', ['-u', 'NODE_OPTIONS', cmd, ...args]];
}
