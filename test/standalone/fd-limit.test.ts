// Client connections are bounded within the process's open-files limit, so idle connections cannot take the
// descriptors the node needs itself: the write-ahead log's next segment failed to open (EMFILE), a storage failure
// that ended the node with exit 70 (server/file-descriptors.ts connectionsWithinFds).
import t from 'tap';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { connectionsWithinFds } from '../../server/file-descriptors.js';
import { ZKGATE_BIN, freePort, tempDir } from '../helpers/server.js';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.js';

t.test('the bound keeps a reserve of descriptors for the node', async (t) => {
  t.equal(connectionsWithinFds(20_000, undefined), 20_000, 'no known limit: as configured');
  t.equal(connectionsWithinFds(20_000, 1_048_576), 20_000, 'far below the limit: as configured');
  t.equal(connectionsWithinFds(20_000, 1024), 768, 'ulimit -n 1024: a quarter kept');
  t.equal(connectionsWithinFds(20_000, 128), 80, 'a small limit: at least 48 kept');
  t.equal(connectionsWithinFds(20_000, 65_536), 20_000, 'at most 512 kept: here the configured bound is lower anyway');
  t.equal(connectionsWithinFds(65_536, 65_536), 65_024);
  t.equal(connectionsWithinFds(20_000, 1024, 256), 512, 'a metrics port: its 256 connections kept too');
});

t.test('under ulimit -n 128, 200 idle connections and 9 MiB of writes (a new log segment): the node stays up', async (t) => {
  const port = await freePort();
  const dataDir = tempDir();
  const cmd = `ulimit -n 128 && exec ${[process.execPath, ...SERVER_NODE_FLAGS, ZKGATE_BIN].join(' ')} server --http-port ${port} --data-dir ${dataDir}`;
  const proc = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  t.teardown(() => proc.kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200 && !(await fetch(`${url}/v1/admin/ruok`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(out, /the HTTP port takes 80 connections, not \d+: the process may open only 128 files/, 'the lowered bound is logged at start');

  // The writer's connection first; then the idle ones, as many as the client can open.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());
  const put = (path: string, body: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const r = request(`${url}${path}`, { method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      r.on('error', reject);
      r.end(body);
    });
  t.equal(await put('/v1/znodes/first', Buffer.from('x')), 201);
  const idle: Socket[] = [];
  t.teardown(() => idle.forEach((s) => s.destroy()));
  for (let i = 0; i < 200; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    idle.push(s);
  }
  await new Promise((r) => setTimeout(r, 500));
  const chunk = Buffer.alloc(100 * 1024, 0x61);
  let ok = 0;
  for (let i = 0; i < 95; i++) {
    const status = await put(`/v1/znodes/big-${i}`, chunk).catch(() => 0);
    if (status === 201) ok++;
    else break;
  }
  t.equal(ok, 95, '9.5 MiB of writes over the connection opened first, past a log segment');
  t.equal(proc.exitCode, null, `the node is still running${proc.exitCode === null ? '' : ` (exit ${proc.exitCode}): ${out.slice(-400)}`}`);
  t.notMatch(out, /storage write failed/);
  proc.kill('SIGTERM');
  t.equal(await exited, 0, 'and stops cleanly');
});
