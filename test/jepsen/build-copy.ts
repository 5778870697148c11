// A private copy of the compiled server for one run: nodes restarted mid-run must run the same code even
// when someone rebuilds dist/ meanwhile. It lives inside the checkout (git-ignored jepsen-results/) so
// that node_modules still resolves.
import { cpSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ZKGATE_BIN } from '../helpers/server.js';

const DIST = join(ZKGATE_BIN, '..', '..');
const PARTS = ['bin', 'server', 'routes', 'storage', 'openapi', 'cli', 'client'];

export function copyBuild(resultsDir: string): { dir: string; bin: string; remove(): void } {
  mkdirSync(resultsDir, { recursive: true });
  const dir = mkdtempSync(join(resultsDir, '.dist-'));
  for (const p of PARTS) cpSync(join(DIST, p), join(dir, p), { recursive: true });
  return { dir, bin: join(dir, 'bin', 'zkgate.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
