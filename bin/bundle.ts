// `npm run build`'s second step: bundles the compiled zkgate command (dist/bin/zkgate.js) into dist/bundle/.
//
// Why: loading the server as ~400 ESM files plus the CommonJS trees of fastify, ajv and pino took most of a start
// (spawn → serving 920–1,020 ms unbundled against 495–645 bundled, on a 2-core VM; three members starting together
// spent 1.2 s before their first log line). A bundle is read as a few files and resolved once.
//
// Kept out of the bundle, and loaded from node_modules at run time: EXTERNAL (bin/bundled.ts says why).
// The server's modules go into a chunk of their own, loaded only by `zkgate server`, so the client commands stay small.
// Not minified: a stack trace keeps the functions' names. The .map files lead back to the TypeScript (through tsc's
// maps) for `node --enable-source-maps`, which is not on by default: reading the maps costs about 100 ms a start.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_DIR, BUNDLE_META, BUNDLED_ZKGATE, DIST_DIR, EXTERNAL } from './bundled.js';

async function bundle(): Promise<void> {
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  const r = await build({
    entryPoints: { zkgate: join(DIST_DIR, 'bin', 'zkgate.js') },
    // The metafile's paths are relative to this: bundled.ts finds the inputs from dist/.
    absWorkingDir: DIST_DIR,
    outdir: BUNDLE_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    sourcemap: 'linked',
    chunkNames: 'chunks/[name]-[hash]',
    // CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __zkgateCreateRequire } from 'node:module'; const require = __zkgateCreateRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  // build() throws on errors; a warning (a require left to run time, say) fails the build too.
  if (r.warnings.length > 0) throw new Error(`bundling ${BUNDLED_ZKGATE}: ${r.warnings.length} warnings`);
  // What went in: the check of a bundle's age reads it (bundled.ts), as does esbuild's size analyzer. Written last,
  // so that its time is the bundle's.
  writeFileSync(join(BUNDLE_DIR, BUNDLE_META), JSON.stringify(r.metafile));
}

await bundle();
