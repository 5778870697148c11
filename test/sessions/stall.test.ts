// A node that does not run for a while (SIGSTOP here; a VM paused by its host, a long GC pause or swapped-out pages
// alike) must not expire the sessions whose keepalives arrived meanwhile and wait unread in its sockets: when it runs
// again its expiry timer is due before it reads them (etcd's users hit the same after slow fsyncs, ETCD-CONSUL.md §6
// #5). The time it did not run does not count against any session; a session nobody keeps alive still expires. Nor
// against a WebSocket without a session, which the node cuts after two ping intervals of silence (1 s here).
import t, { type Test } from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir } from '../helpers/server.js';
import { eventually, sleep, spawnUp } from '../standalone/http.js';
import { WatchClient } from '../watches/client.js';

t.setTimeout(90000);

const TIMEOUT_MS = 1500;
const STOPPED_MS = 4 * TIMEOUT_MS;

const dir = tempDir('zkgate-stall-');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const cfgFile = join(dir, 'zoo.cfg');
writeFileSync(cfgFile, [`dataDir=${join(dir, 'data')}`, 'tickTime=250', 'wsPingIntervalMs=1000', ''].join('\n'));
const server = await spawnUp(['--config', cfgFile, '--http-port', String(await freePort()), '--log-level', 'info']);
t.teardown(() => {
  server.proc.kill('SIGCONT');
  server.proc.kill('SIGKILL');
});

async function openSession(t: Test): Promise<string> {
  const r = await fetch(`${server.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeoutMs: TIMEOUT_MS }) });
  const { sessionId, timeoutMs } = (await r.json()) as { sessionId: string; timeoutMs: number };
  t.equal(timeoutMs, TIMEOUT_MS, 'the session has the timeout asked for');
  return sessionId;
}

const keepalive = (id: string) => fetch(`${server.url}/v1/sessions/${id}/keepalive`, { method: 'POST' });
const sessionStatus = async (id: string) => (await fetch(`${server.url}/v1/sessions/${id}`)).status;

t.test('a session kept alive while the node was stopped outlives a stop four times its timeout', async (t) => {
  const live = await openSession(t);
  const dead = await openSession(t);
  t.equal((await fetch(`${server.url}/v1/znodes/held?ephemeral`, { method: 'POST', headers: { 'zk-session': live } })).status, 201);
  t.equal((await keepalive(live)).status, 200);

  server.proc.kill('SIGSTOP');
  // Sent while the node is stopped, as a client keeps alive every third of its timeout: each waits in the socket.
  const sent: Promise<Response>[] = [];
  for (let waited = 0; waited < STOPPED_MS; waited += TIMEOUT_MS / 3) {
    sent.push(keepalive(live));
    await sleep(TIMEOUT_MS / 3);
  }
  server.proc.kill('SIGCONT');

  const answers = await Promise.all(sent);
  t.same(
    answers.map((r) => r.status),
    answers.map(() => 200),
    'every keepalive sent during the stop is answered 200, none SessionExpired',
  );
  t.equal(await sessionStatus(live), 200, 'the session lives');
  t.equal((await fetch(`${server.url}/v1/znodes/held?stat`)).status, 200, 'and so does its ephemeral');

  // Nothing keeps `dead` alive: it expires about its timeout after the node runs again (the stop not counted),
  // while `live` goes on being kept alive.
  const keeping = setInterval(() => void keepalive(live).catch(() => {}), TIMEOUT_MS / 3);
  t.teardown(() => clearInterval(keeping));
  t.ok(await eventually(async () => (await sessionStatus(dead)) === 410, 10 * TIMEOUT_MS), 'a session nobody keeps alive still expires');
  t.equal(await sessionStatus(live), 200, 'the kept-alive session was not taken with it');
  t.match(server.stdout(), /"stalledMs":\d+/, 'the node logged how long it did not run');
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const stalled = Number(/^zkgate_stalled_seconds_total (\S+)$/m.exec(metrics)?.[1]);
  t.ok(stalled >= (STOPPED_MS - 1000) / 1000, `zkgate_stalled_seconds_total counts the stop (${stalled} s)`);
  t.match(metrics, /^zkgate_stalls_total [1-9]/m, 'and zkgate_stalls_total the stall');
});

t.test('a WebSocket without a session outlives a stop longer than two ping intervals, and still gets its events', async (t) => {
  t.equal((await fetch(`${server.url}/v1/znodes/w`, { method: 'POST' })).status, 201);
  const c = await WatchClient.openFor(t, server.url);
  t.match(await c.watch('/w', 'persistent'), { ok: true });
  server.proc.kill('SIGSTOP');
  await sleep(STOPPED_MS);
  server.proc.kill('SIGCONT');
  // Longer than two ping intervals after the node runs again: time for it to cut a connection it thinks silent.
  await sleep(2500);
  t.equal(c.closed, undefined, 'the connection is open');
  t.equal((await fetch(`${server.url}/v1/znodes/w/child`, { method: 'POST' })).status, 201);
  t.ok(await c.until(() => c.eventList().includes('NodeChildrenChanged /w')), 'and its watch fires');
});
