// Where the bundled zkgate command lives (bin/bundle.ts writes it), and whether it is older than the compiled files
// it was made from. Everything that starts a zkgate process (bin/zkgate, the tests, the benchmarks, the fault
// harness) runs the bundle, so a `tsc` without `npm run build` would otherwise test yesterday's server.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/ (this file compiles to dist/bin/bundled.js). */
export const DIST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE_DIR = join(DIST_DIR, 'bundle');
/** The zkgate command as one entry file plus chunks, with every dependency but the EXTERNAL ones inlined. */
export const BUNDLED_ZKGATE = join(BUNDLE_DIR, 'zkgate.js');

/**
 * Packages the bundle imports at run time from node_modules: lmdb, a native addon found by its package's own loader;
 * @fastify/swagger-ui, which serves static files from its package directory.
 */
export const EXTERNAL = ['lmdb', '@fastify/swagger-ui'];

/**
 * Packages ws asks for inside a try (native speed-ups zkgate does not install); absent, ws uses its own code. esbuild
 * leaves such a require to run time.
 */
export const OPTIONAL = ['bufferutil', 'utf-8-validate'];

/** The compiled folders the bundle is made from (dist/<part>). */
export const BUNDLED_PARTS = ['bin', 'cli', 'client', 'openapi', 'routes', 'server', 'storage'];

function newestJs(dir: string): { file: string; mtimeMs: number } | undefined {
  let best: { file: string; mtimeMs: number } | undefined;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const found = e.isDirectory() ? newestJs(p) : e.name.endsWith('.js') ? { file: p, mtimeMs: statSync(p).mtimeMs } : undefined;
    if (found && (!best || found.mtimeMs > best.mtimeMs)) best = found;
  }
  return best;
}

/** Why the bundle cannot be used as it is (missing, or a compiled file is newer), or undefined when it is current. */
export function bundleProblem(entry = BUNDLED_ZKGATE, dist = DIST_DIR): string | undefined {
  let built: number;
  try {
    built = statSync(entry).mtimeMs;
  } catch {
    return `${entry} is missing: run \`npm run build\``;
  }
  for (const part of BUNDLED_PARTS) {
    let newest;
    try {
      newest = newestJs(join(dist, part));
    } catch {
      continue;
    }
    if (newest && newest.mtimeMs > built) return `${entry} is older than ${newest.file}: run \`npm run build\` (tsc alone does not bundle)`;
  }
  return undefined;
}

/** BUNDLED_ZKGATE, once it is known to be current; throws saying what to run otherwise. */
export function currentBundle(): string {
  const problem = bundleProblem();
  if (problem !== undefined) throw new Error(problem);
  return BUNDLED_ZKGATE;
}
