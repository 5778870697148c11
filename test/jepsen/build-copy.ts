// A private copy of the compiled server for one run: nodes restarted mid-run must run the same code even
// when someone rebuilds dist/ meanwhile. It lives inside the checkout (git-ignored jepsen-results/) so
// that node_modules still resolves.
import { cpSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BUNDLE_DIR, currentBundle } from '../../bin/bundled.js';

/** The bundled command (dist/bundle/, which needs nothing else from dist/), copied. */
export function copyBuild(resultsDir: string): { dir: string; bin: string; remove(): void } {
  const bin = currentBundle();
  mkdirSync(resultsDir, { recursive: true });
  const dir = mkdtempSync(join(resultsDir, '.dist-'));
  cpSync(BUNDLE_DIR, join(dir, 'bundle'), { recursive: true });
  return { dir, bin: join(dir, 'bundle', basename(bin)), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
