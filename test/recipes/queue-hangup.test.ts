// A queue poller that hangs up takes no element (routes/recipes-queue.ts): not one that arrives as it hangs up, and
// one claimed for it before the hang-up was seen is put back at the head. The server is a child process, stopped
// (SIGSTOP) while the offer and the hang-up queue up, so that it meets both at once when it resumes.
import t from 'tap';
import { connect } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir } from '../helpers/server.js';
import { startNode } from '../cli/run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('an element offered as its only poller hangs up stays in the queue, at its head', async (t) => {
  const dir = tempDir();
  const port = await freePort();
  const server = await startNode(['--http-port', String(port), '--data-dir', join(dir, 'data'), '--log-level', 'warn']);
  t.teardown(async () => {
    server.proc.kill('SIGCONT');
    server.proc.kill('SIGTERM');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const q = `${server.url}/v1/recipes/queues/jobs`;
  const rounds = 8;
  for (let i = 0; i < rounds; i++) {
    // The poller: a raw connection, so that it can go away without reading anything.
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => {});
    let answered = '';
    sock.on('data', (d) => (answered += d));
    await new Promise((r) => sock.once('connect', r));
    sock.write(`POST /v1/recipes/queues/jobs/poll?wait=20s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
    await sleep(300);
    server.proc.kill('SIGSTOP');
    const offered = fetch(q, { method: 'POST', body: `e${i}` });
    await sleep(100);
    sock.destroy();
    await sleep(100);
    server.proc.kill('SIGCONT');
    t.equal((await offered).status, 201, `round ${i}: offered`);
    t.equal(answered, '', `round ${i}: the poller was told nothing`);
    const got = await fetch(`${q}/poll`, { method: 'POST' });
    t.equal(got.status, 200, `round ${i}: the element is still in the queue`);
    t.match(await got.json(), { data: `e${i}` }, `round ${i}: the element is the one offered`);
  }
  t.equal((await (await fetch(q)).json() as { size: number }).size, 0, 'nothing else is left');
});
