// The server's log never keeps the process from exiting (server/log-destination.ts). pino's default destination
// flushed pending lines at exit in a loop that retried EPIPE for ever: a node whose stdout reader was gone and that
// exited with lines pending never exited. A real child process, a real pipe, the server's own makeLogger.
import t from 'tap';
import { spawn } from 'node:child_process';
import { logLinesDropped, stdoutDestination } from '../../server/log-destination.js';
import { freePort, spawnServer, tempDir } from '../helpers/server.js';

const mainJs = new URL('../../server/main.js', import.meta.url).href;

t.test('a process logging through makeLogger exits at once when its stdout reader has gone', async (t) => {
  const script = `
    const { makeLogger } = await import(${JSON.stringify(mainJs)});
    const log = makeLogger('info');
    process.stdin.once('data', () => {
      for (let i = 0; i < 200; i++) log.info({ i }, 'a line the reader will never see');
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // Wait until the child listens, then take its reader away and let it log and exit.
  await new Promise((r) => setTimeout(r, 1000));
  child.stdout?.destroy();
  child.stdin?.write('go\n');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10000).unref())]);
  t.equal(code, 0, 'exited with its own code within 10 s');
});

t.test('a closed fd drops lines instead of retrying them', async (t) => {
  const d = stdoutDestination(987654);
  d.write('{"msg":"a"}\n');
  d.write('{"msg":"b"}\n');
  t.equal(d.dropped, 2);
  t.ok(logLinesDropped() >= 2, 'and counted for the process');
});

t.test('a server whose stdout reader has gone counts its dropped lines in zkgate_log_lines_dropped_total', async (t) => {
  const port = await freePort();
  // At debug every request is a log line, so requests make lines on demand.
  const s = await spawnServer(['--data-dir', tempDir(), '--http-port', String(port), '--log-level', 'debug']);
  t.teardown(() => void s.proc.kill('SIGKILL'));
  const dropped = async () => /^zkgate_log_lines_dropped_total (\d+)$/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1];
  t.equal(await dropped(), '0', 'none while the reader reads');
  s.proc.stdout?.destroy();
  for (let i = 0; i < 5; i++) t.equal((await fetch(`${s.url}/v1/admin/ruok`)).status, 200, 'the server answers with no one reading its log');
  t.ok(Number(await dropped()) >= 5, 'each line written since is counted as dropped');
});

t.test('a stalled reader costs one wait of LOG_STALL_MS, not one per line: later lines are dropped at once', async (t) => {
  const destJs = new URL('../../server/log-destination.js', import.meta.url).href;
  const script = `
    const { stdoutDestination } = await import(${JSON.stringify(destJs)});
    const d = stdoutDestination(1);
    const line = JSON.stringify({ msg: 'x'.repeat(1000) }) + '\\n';
    const t0 = Date.now();
    for (let i = 0; i < 300; i++) d.write(line);
    process.stderr.write(JSON.stringify({ dropped: d.dropped, ms: Date.now() - t0 }) + '\\n');
    process.exit(0);`;
  // Nobody reads the child's stdout: 300 lines of 1 KB overfill the pipe.
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pause();
  t.teardown(() => void child.kill('SIGKILL'));
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d));
  const code = await Promise.race([new Promise<number | null>((r) => child.once('exit', (c) => r(c))), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60000).unref())]);
  t.equal(code, 0, 'it went through all 300 lines');
  const report = JSON.parse(err.trim().split('\n').at(-1) ?? '{}') as { dropped: number; ms: number };
  t.ok(report.dropped >= 100, `the lines past the full pipe were dropped (${report.dropped} of 300)`);
  // Each dropped line would have waited a second of its own before: over 100 s.
  t.ok(report.ms < 30000, `in ${report.ms} ms, not a second per dropped line`);
});
