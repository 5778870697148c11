// Runs the built CLI (`node dist/bin/zkgate.js ...`) as a child process and collects its output and exit code.
import { spawn } from 'node:child_process';
import { ZKGATE_BIN } from '../helpers/server.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `zkgate <args>`; killed (and failing the test through its code) if it outlives `timeoutMs`. */
export function zk(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [ZKGATE_BIN, ...args], { env: { ...process.env, ZKGATE_URL: undefined, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 20000);
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
