// Child processes the benchmark starts (zkgate, the bare fastify server, ZooKeeper): spawn, wait until
// ready, read their CPU time and RSS from /proc, and stop them (SIGTERM, then SIGKILL after a grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  spawnedAtMs: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** How much child output to keep for error messages (bytes); the rest is dropped. */
const OUTPUT_KEEP_BYTES = 64 * 1024;

export function startChild(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const spawnedAtMs = performance.now();
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString('utf8');
    if (out.length > OUTPUT_KEEP_BYTES) out = out.slice(-OUTPUT_KEEP_BYTES);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  if (proc.pid === undefined) throw new Error(`could not spawn ${cmd}`);
  return { name, proc, pid: proc.pid, spawnedAtMs, output: () => out, exited };
}

/** Polls `probe` every `everyMs` until it returns true; throws with the child's output if it exits or times out. */
export async function waitUntil(child: Child, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<void> {
  let gone = false;
  void child.exited.then(() => (gone = true));
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (gone) throw new Error(`${child.name} exited before it was ready:\n${child.output()}`);
    try {
      if (await probe()) return;
    } catch {
      /* not up yet */
    }
    await sleep(everyMs);
  }
  throw new Error(`${child.name} was not ready within ${timeoutMs} ms:\n${child.output()}`);
}

export async function httpOk(url: string): Promise<boolean> {
  const r = await fetch(url);
  await r.arrayBuffer();
  return r.ok;
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves with the exit code. */
export async function stopChild(child: Child, graceMs = 15000): Promise<number | null> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return child.proc.exitCode;
  child.proc.kill('SIGTERM');
  const t = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  const code = await child.exited;
  clearTimeout(t);
  return code;
}

const CLOCK_TICKS_PER_S = 100;

/** User + system CPU seconds a process has used so far (all its threads), from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS_PER_S;
}

/** Resident set size from one read of /proc/<pid>/status, in MB: the whole (VmRSS), split into anonymous (heap
 * and other private memory) and file-backed (mapped files, here mostly LMDB's map: page cache the kernel can drop),
 * and the most the process has had since it started (VmHWM). */
export function rssSplitMb(pid: number): { rssMb: number; anonMb: number; fileMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: mb('VmRSS'), anonMb: mb('RssAnon'), fileMb: mb('RssFile'), peakMb: mb('VmHWM') };
}

export function rssMb(pid: number): number {
  return rssSplitMb(pid).rssMb;
}

/** Told when a cluster member's process starts (true) or is gone (false), so the caller can account for it. */
export type TrackChild = (c: Child, alive: boolean) => void;

/** A member of a benchmarked cluster (zkgate, ZooKeeper or etcd): its process while it runs. */
export interface Member {
  child?: Child;
}

export function memberPids(members: Member[]): number[] {
  return members.flatMap((m) => (m.child ? [m.child.pid] : []));
}

/** SIGKILL, as a crash: no shutdown work runs. SIGTERM: a graceful stop, SIGKILL after 30 s if it has not ended. */
export async function killMember(m: Member, track?: TrackChild, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
  const c = m.child;
  if (!c) return;
  c.proc.kill(signal);
  const force = signal === 'SIGTERM' ? setTimeout(() => c.proc.kill('SIGKILL'), 30000) : undefined;
  await c.exited;
  clearTimeout(force);
  track?.(c, false);
  m.child = undefined;
}

export async function stopMembers(members: Member[], track?: TrackChild): Promise<void> {
  await Promise.all(
    members.map(async (m) => {
      const c = m.child;
      if (!c) return;
      m.child = undefined;
      await stopChild(c);
      track?.(c, false);
    }),
  );
}

/** Polls every running member's `isLeader` until one says yes; returns its id. */
export async function pollLeader<M extends Member & { id: number }>(members: M[], isLeader: (m: M) => Promise<boolean>, what: string, timeoutMs: number, everyMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    for (const m of members) if (m.child && (await isLeader(m))) return m.id;
    await sleep(everyMs);
  }
  throw new Error(`no ${what} leader within ${timeoutMs} ms`);
}

/**
 * Ports handed out are also reserved across processes, by a file per port naming its holder's pid: a port this
 * process handed to a member it killed and will restart is free to a probe in the meantime, and a test file running
 * beside it (tap runs two) once took it, so that the restart failed with EADDRINUSE (whole-kill, session 22). A
 * reservation whose holder is gone is taken over; this process's are removed when it exits.
 */
const RESERVED_DIR = join(tmpdir(), 'zkgate-test-ports');
/** The ports this process has reserved (and handed out); their files are removed when it exits. */
const reserved = new Set<number>();

export function reserve(port: number): boolean {
  mkdirSync(RESERVED_DIR, { recursive: true });
  const file = join(RESERVED_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      if (reserved.size === 0) process.once('exit', () => reserved.forEach((p) => rmSync(join(RESERVED_DIR, String(p)), { force: true })));
      reserved.add(port);
      return true;
    } catch {
      if (holderAlive(file)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

function holderAlive(file: string): boolean {
  try {
    process.kill(Number(readFileSync(file, 'utf8')), 0);
    return true;
  } catch (e) {
    // EPERM: a process of another user holds it.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const PORT_LOW = 20000;
const PORT_SPAN = 12000;

/**
 * A free loopback port. Ports handed to child processes come from below Linux's ephemeral range (32768–60999): a port the kernel
 * picked and we released can be taken again as the source port of any outgoing connection before the child
 * binds it — seen as EADDRINUSE at a Jepsen node's start, whose proxies open connections all the time. The tests
 * take their ports here too (test/helpers/server.ts).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const p = PORT_LOW + Math.floor(Math.random() * PORT_SPAN);
    if (reserved.has(p)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free && reserve(p)) return p;
  }
  throw new Error(`no free port found in ${PORT_LOW}..${PORT_LOW + PORT_SPAN - 1}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
