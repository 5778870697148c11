// Test fixtures: a real zkgate node in this process (real LMDB in a temp dir, real HTTP on a loopback port),
// or a real child process running the built CLI.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { defaultConfig, type Config } from '../../server/config.js';
import { makeLogger, startServer, type RunningServer } from '../../server/main.js';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.js';
import { currentBundle } from '../../bin/bundled.js';
import type { Logger } from 'pino';
import { untracked } from './untracked.js';

export function tempDir(prefix = 'zkgate-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A member's disk replaced: everything in its (stopped) dataDir goes but its myid. */
export function emptyDataDir(dir: string): void {
  for (const f of readdirSync(dir)) if (f !== 'myid') rmSync(join(dir, f), { recursive: true, force: true });
}

export interface TestServer extends RunningServer {
  dataDir: string;
  cfg: Config;
  /** Closes the server and removes its data dir. */
  destroy(): Promise<void>;
}

/**
 * Starts a node on 127.0.0.1 with an ephemeral port; `overrides` patch the config. `log`: where the server logs
 * (default: nowhere, or stdout at `overrides.logLevel`).
 */
export async function startTestServer(overrides: Partial<Config> = {}, log?: Logger): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? tempDir();
  const cfg: Config = { ...defaultConfig(), httpHost: '127.0.0.1', httpPort: 0, logLevel: 'silent', ...overrides, dataDir };
  const s = await startServer(cfg, log ?? makeLogger(cfg.logLevel));
  return {
    ...s,
    dataDir,
    cfg,
    async destroy() {
      await s.close();
      if (!overrides.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The zkgate command as users run it: the bundle `npm run build` makes (bin/bundle.ts), checked to be current. */
export const ZKGATE_BIN = currentBundle();

export interface ChildServer {
  proc: ChildProcess;
  url: string;
  port: number;
  stderr: () => string;
  stdout: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Every server child this test process started and has not seen exit: killed if the test process ends first. */
const children = new Set<ChildProcess>();
let reaperInstalled = false;

function installReaper(): void {
  if (reaperInstalled) return;
  reaperInstalled = true;
  const reap = () => {
    for (const c of children) c.kill('SIGKILL');
  };
  process.once('exit', reap);
  // A test runner's timeout ends the test process with a signal; take the servers along.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      reap();
      process.exit(128 + (sig === 'SIGTERM' ? 15 : 2));
    });
  }
}

/**
 * Spawns `zkgate server` with the given args and waits (up to 30 s) until it answers a plain-HTTP ruok or exits;
 * `waitForHttp` false skips that for an HTTPS node. `launcher` is the command before `server` (default: node with
 * the server's V8 flags on the bundled command).
 */
export async function spawnServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  launcher: string[] = [process.execPath, ...SERVER_NODE_FLAGS, ZKGATE_BIN],
  waitForHttp = true,
): Promise<ChildServer> {
  installReaper();
  const [cmd = process.execPath, ...pre] = launcher;
  const proc = spawn(...untracked(cmd, [...pre, 'server', ...args]), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const portArg = args.indexOf('--http-port');
  const port = portArg >= 0 ? Number(args[portArg + 1]) : 8080;
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  let gone = false;
  void exited.then(() => (gone = true));
  while (waitForHttp && Date.now() < deadline && !gone) {
    try {
      const r = await fetch(`${url}/v1/admin/ruok`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, url, port, stderr: () => err, stdout: () => out, exited };
}

/** A free loopback port, below the kernel's ephemeral range (bench/procs.ts says why); bench and tests share it. */
export { freePort } from '../../bench/procs.js';
