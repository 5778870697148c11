// One server per dataDir (storage/data-dir-lock.ts): a second server on the same dataDir is refused at start, naming
// the first; a pid file left by a process that is gone does not block a restart.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirInUse, PID_FILE, lockDataDir, processStart } from '../../storage/data-dir-lock.js';
import { freePort, spawnServer, tempDir } from '../helpers/server.js';

t.test('a second server on a dataDir in use exits 2 naming the first; after the first is killed -9 a server starts there and has its data', async (t) => {
  const dir = tempDir();
  const a = await spawnServer(['--data-dir', dir, '--http-port', String(await freePort())]);
  t.teardown(() => void a.proc.kill('SIGKILL'));
  t.equal((await fetch(`${a.url}/v1/znodes/kept`, { method: 'POST', body: 'v' })).status, 201);
  t.equal(readFileSync(join(dir, PID_FILE), 'utf8'), `${a.proc.pid} ${processStart(a.proc.pid as number)}\n`, 'the first server keeps its pid and start time in zkgate.pid');

  const b = await spawnServer(['--data-dir', dir, '--http-port', String(await freePort())], {}, undefined, false);
  t.teardown(() => void b.proc.kill('SIGKILL'));
  const exit = await b.exited;
  t.equal(exit.code, 2, 'the second exits 2');
  t.match(b.stderr(), `zkgate: configuration error (dataDir): dataDir ${dir} is in use by another zkgate server (pid ${a.proc.pid}, ${join(dir, PID_FILE)}): two servers on one dataDir would corrupt it`);
  t.equal((await fetch(`${a.url}/v1/admin/ruok`)).status, 200, 'the first goes on serving');

  a.proc.kill('SIGKILL');
  await a.exited;
  const c = await spawnServer(['--data-dir', dir, '--http-port', String(await freePort())]);
  t.teardown(() => void c.proc.kill('SIGKILL'));
  const kept = await fetch(`${c.url}/v1/znodes/kept`);
  t.equal(kept.status, 200, 'a server starts on the pid file the killed one left, and serves its data');
  c.proc.kill('SIGTERM');
  t.equal((await c.exited).code, 0);
  t.notOk(existsSync(join(dir, PID_FILE)), 'a clean stop removes the pid file');
});

t.test('which pid files block a start', async (t) => {
  const parent = process.ppid;
  const cases: [string, string, boolean][] = [
    ['a live process with its start time', `${parent} ${processStart(parent)}\n`, true],
    ['a live pid with another start time (the pid was reused)', `${parent} 1\n`, false],
    ['this process itself (a container restarted with the same pid)', `${process.pid} ${processStart('self')}\n`, false],
    ['a pid no process has', `${2 ** 22 + 7} 12345\n`, false],
    ['garbage', 'not a pid file', false],
  ];
  for (const [name, content, blocks] of cases) {
    const dir = tempDir();
    writeFileSync(join(dir, PID_FILE), content);
    if (blocks) {
      t.throws(() => lockDataDir(dir), new DataDirInUse(dir, parent), name);
      t.equal(readFileSync(join(dir, PID_FILE), 'utf8'), content, `${name}: the file is left alone`);
    } else {
      const lock = lockDataDir(dir);
      t.equal(readFileSync(join(dir, PID_FILE), 'utf8'), `${process.pid} ${processStart('self')}\n`, `${name}: taken over`);
      lock.release();
      t.notOk(existsSync(join(dir, PID_FILE)), `${name}: released`);
    }
  }
  const dir = tempDir();
  const lock = lockDataDir(dir);
  writeFileSync(join(dir, PID_FILE), `${parent} ${processStart(parent)}\n`);
  lock.release();
  t.ok(existsSync(join(dir, PID_FILE)), 'release leaves a file that is no longer its own');
});
