// Where the bundled zkgate command lives (bin/bundle.ts writes it), and whether it is older than the files it was
// made from. Everything that starts a zkgate process (bin/zkgate, the tests, the benchmarks, the fault
// harness) runs the bundle, so a `tsc` without `npm run build` would otherwise test yesterday's server.
import { readFileSync, statSync } from 'node:fs';
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

/** esbuild's record of the build (bin/bundle.ts writes it last): `inputs` are the files read, relative to dist/. */
export const BUNDLE_META = 'meta.json';

/**
 * Why the bundle in `bundleDir` cannot be used as it is (never built, or a file it was made from changed since), or
 * undefined when it is current. The files are those esbuild read, from its metafile, so the check covers exactly the
 * compiled modules and the dependencies that went in.
 */
export function bundleProblem(bundleDir = BUNDLE_DIR): string | undefined {
  const metaFile = join(bundleDir, BUNDLE_META);
  let built: number;
  let inputs: string[];
  try {
    built = statSync(metaFile).mtimeMs;
    inputs = Object.keys((JSON.parse(readFileSync(metaFile, 'utf8')) as { inputs: Record<string, unknown> }).inputs);
  } catch {
    return `${metaFile} is missing: run \`npm run build\``;
  }
  const base = join(bundleDir, '..');
  for (const input of inputs) {
    const file = join(base, input);
    let changed: number;
    try {
      changed = statSync(file).mtimeMs;
    } catch {
      return `${file}, which the bundle was made from, is gone: run \`npm run build\``;
    }
    if (changed > built) return `the bundle in ${bundleDir} is older than ${file}: run \`npm run build\` (tsc alone does not bundle)`;
  }
  return undefined;
}

/** BUNDLED_ZKGATE, once it is known to be current; throws saying what to run otherwise. */
export function currentBundle(): string {
  const problem = bundleProblem();
  if (problem !== undefined) throw new Error(problem);
  return BUNDLED_ZKGATE;
}
