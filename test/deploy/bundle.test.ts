// The zkgate command runs as a bundle (bin/bundle.ts): what starts it uses the bundle, the bundle needs nothing
// from dist/ but itself, and a bundle older than what tsc compiled since is refused rather than run.
import t from 'tap';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { BUNDLE_DIR, BUNDLED_ZKGATE, bundleProblem, EXTERNAL, OPTIONAL } from '../../bin/bundled.js';
import { freePort, spawnServer, tempDir, ZKGATE_BIN } from '../helpers/server.js';

const root = new URL('../../../', import.meta.url).pathname;

t.test('the tests, bin/zkgate and the image run the bundle', async (t) => {
  t.equal(ZKGATE_BIN, BUNDLED_ZKGATE);
  const dir = tempDir();
  const s = await spawnServer(['--data-dir', dir, '--http-port', String(await freePort()), '--log-level', 'warn'], {}, [join(root, 'bin', 'zkgate')]);
  t.teardown(async () => {
    s.proc.kill('SIGKILL');
    await s.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  // bin/zkgate execs node, so the process it started is node on the bundle.
  const argv = readFileSync(`/proc/${s.proc.pid}/cmdline`, 'utf8').split('\0');
  t.ok(argv.some((a) => resolve(a) === BUNDLED_ZKGATE), argv.join(' '));
  const r = await fetch(`${s.url}/v1/znodes/bundled`, { method: 'POST', body: 'x' });
  t.equal(r.status, 201, 'and it serves');
});

t.test("the bundle imports only node's own modules and the packages kept out of it", async (t) => {
  const meta = JSON.parse(readFileSync(join(BUNDLE_DIR, 'meta.json'), 'utf8')) as {
    inputs: Record<string, unknown>;
    outputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
  };
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const externals = new Set<string>();
  for (const out of Object.values(meta.outputs)) for (const i of out.imports) if (i.external) externals.add(i.path);
  const other = [...externals].filter((p) => !builtins.has(p) && !EXTERNAL.includes(p) && !OPTIONAL.includes(p));
  t.same(other, [], 'no import reaches outside the bundle but those (and the optional ones ws tries)');
  t.ok(EXTERNAL.every((p) => externals.has(p)), `${EXTERNAL.join(', ')} are imported at run time`);
  t.ok('server/main.js' in meta.inputs, 'its inputs are named from dist/, where the age check looks for them');
});

t.test('a missing or stale bundle is refused, naming what to run', async (t) => {
  const dist = tempDir('zkgate-bundle-');
  t.teardown(() => rmSync(dist, { recursive: true, force: true }));
  const bundleDir = join(dist, 'bundle');
  mkdirSync(join(dist, 'server', 'tree'), { recursive: true });
  mkdirSync(bundleDir);
  const compiled = join(dist, 'server', 'tree', 'apply.js');
  writeFileSync(compiled, '');
  t.match(bundleProblem(bundleDir), /is missing: run `npm run build`/);
  // As esbuild records it: the files read, relative to dist/.
  const meta = join(bundleDir, 'meta.json');
  writeFileSync(meta, JSON.stringify({ inputs: { 'server/tree/apply.js': {} }, outputs: {} }));
  const now = Date.now() / 1000;
  utimesSync(compiled, now - 10, now - 10);
  utimesSync(meta, now - 5, now - 5);
  t.equal(bundleProblem(bundleDir), undefined, 'bundled after compiling: current');
  utimesSync(compiled, now, now);
  t.match(bundleProblem(bundleDir), new RegExp(`older than ${compiled.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: run \`npm run build\``));
  rmSync(compiled);
  t.match(bundleProblem(bundleDir), /apply\.js, which the bundle was made from, is gone: run `npm run build`/);
});
