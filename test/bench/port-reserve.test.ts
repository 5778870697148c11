// freePort's ports are reserved across processes (bench/procs.ts): a port one test process handed out is not handed
// out by another while the first lives, and a reservation whose holder died is taken over.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, reserve } from '../../bench/procs.js';

const procs = new URL('../../bench/procs.js', import.meta.url).href;
const fileOf = (port: number) => join(tmpdir(), 'zkgate-test-ports', String(port));
const reserveInChild = (port: number) =>
  spawnSync(process.execPath, ['--input-type=module', '-e', `import { reserve } from '${procs}'; process.stdout.write(String(reserve(${port})));`], { encoding: 'utf8' }).stdout;

t.test('a port handed out here is refused to another process', async (t) => {
  const port = await freePort();
  t.equal(readFileSync(fileOf(port), 'utf8'), String(process.pid));
  t.equal(reserveInChild(port), 'false');
});

t.test("a dead holder's reservation is taken over, and the taker's goes when it exits", async (t) => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  const port = await freePort();
  writeFileSync(fileOf(port), dead);
  t.equal(reserveInChild(port), 'true');
  t.notOk(existsSync(fileOf(port)), 'removed when the child exited');
  t.ok(reserve(port), 'so this process can take it again');
});
