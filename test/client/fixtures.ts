// Shared by the SDK and recipe tests: clients on a server, polling for a condition, and example programs run as
// real child processes (stopped by PID).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZkClient, type ClientOptions } from '../../client/index.js';
import { untracked } from '../helpers/untracked.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (tests run from dist/test/client). */
export const REPO = join(here, '..', '..', '..');

export async function clients(n: number, servers: string | string[], o: Partial<ClientOptions> = {}): Promise<ZkClient[]> {
  return Promise.all(Array.from({ length: n }, () => ZkClient.connect({ servers, sessionTimeoutMs: 10000, ...o })));
}

export async function closeAll(cs: ZkClient[]): Promise<void> {
  await Promise.all(cs.map((c) => c.close().catch(() => {})));
}

export async function eventually<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface Example {
  proc: ChildProcess;
  /** JSON lines printed so far. */
  lines: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with the first line matching, or rejects after `timeoutMs`. */
  waitFor(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs examples/<file> with `args` as a real process. */
export function runExample(file: string, args: string[]): Example {
  const proc = spawn(...untracked(process.execPath, [join(REPO, 'examples', file), ...args]), { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let err = '';
  const listeners = new Set<() => void>();
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ text: line });
      }
      for (const l of listeners) l();
    }
  });
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    proc,
    lines,
    stderr: () => err,
    exited,
    waitFor(pred, timeoutMs = 20000) {
      return new Promise((resolve, reject) => {
        let settled = false;
        const finish = (f: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        const check = () => {
          const hit = lines.find(pred);
          if (hit) finish(() => resolve(hit));
          else if (gone) finish(() => reject(new Error(`${file} exited without the expected line; got ${JSON.stringify(lines)}; stderr: ${err.slice(-500)}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${file}: no expected line within ${timeoutMs} ms; got ${JSON.stringify(lines)}; stderr: ${err.slice(-500)}`))),
          timeoutMs,
        );
        listeners.add(check);
        void exited.then(check);
        check();
      });
    },
    async kill(signal = 'SIGKILL') {
      if (gone) return;
      proc.kill('SIGCONT');
      proc.kill(signal);
      await exited;
    },
  };
}

/** A loopback server that accepts connections and never answers: a client reconnecting through it is away for its connect timeout. */
export async function blackhole(): Promise<{ url: string; close(): Promise<void> }> {
  const held = new Set<Socket>();
  const srv = createServer((sock) => held.add(sock));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    close() {
      for (const sock of held) sock.destroy();
      return new Promise<void>((r) => srv.close(() => r()));
    },
  };
}
