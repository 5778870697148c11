// Runs the built CLI (`node dist/bundle/zkgate.js ...`) as a child process and collects its output and exit code.
import { spawn } from 'node:child_process';
import { spawnServer, ZKGATE_BIN, type ChildServer } from '../helpers/server.js';
import { untracked } from '../helpers/untracked.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes, when asked for with `binary`. */
  raw?: Buffer;
}

/** Runs `zkgate <args>`; killed (and failing the test through its code) if it outlives `timeoutMs`. */
export function zk(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; binary?: boolean } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(...untracked(process.execPath, [ZKGATE_BIN, ...args]), { env: { ...process.env, ZKGATE_URL: undefined, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const chunks: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (opts.binary) chunks.push(d);
    });
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 20000);
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, raw: opts.binary ? Buffer.concat(chunks) : undefined });
    });
  });
}

/**
 * spawnServer, then keeps waiting (bounded) until the node answers: on a loaded machine a node can take
 * longer to start than spawnServer's own wait. Throws with the node's stderr if it never comes up.
 */
export async function startNode(args: string[], maxWaitMs = 60000): Promise<ChildServer> {
  const s = await spawnServer(args);
  let gone = false;
  void s.exited.then(() => (gone = true));
  const deadline = Date.now() + maxWaitMs;
  while (!gone && Date.now() < deadline) {
    try {
      if ((await fetch(`${s.url}/v1/admin/ruok`)).ok) return s;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  s.proc.kill('SIGKILL');
  throw new Error(`zkgate server ${args.join(' ')} did not come up: ${s.stderr()}`);
}
