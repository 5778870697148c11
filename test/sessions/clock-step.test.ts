// Session timeouts are durations, so a step of the wall clock (NTP, a resumed VM, an operator's `date`) must not
// expire live sessions nor keep dead ones (ZooKeeper moved to a monotonic clock for the same reason, ZOOKEEPER-1366).
// The server runs in this process, so stepping Date.now here steps its wall clock.
import t from 'tap';
import { serverFor, sleep } from '../standalone/http.js';

const cfg = { tickTime: 100, minSessionTimeout: 200, maxSessionTimeout: 20000 };

async function openSession(url: string, timeoutMs: number): Promise<string> {
  const r = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeoutMs }) });
  return ((await r.json()) as { sessionId: string }).sessionId;
}

async function withWallClockStepped<T>(byMs: number, fn: () => Promise<T>): Promise<T> {
  const real = Date.now;
  Date.now = () => real() + byMs;
  try {
    return await fn();
  } finally {
    Date.now = real;
  }
}

t.test('the wall clock stepping an hour ahead expires no live session', async (t) => {
  const { server } = await serverFor(t, cfg);
  const id = await openSession(server.url, 10000);
  await fetch(`${server.url}/v1/znodes/eph?ephemeral`, { method: 'POST', headers: { 'zk-session': id } });
  // Several expiry checks (every 100 ms here) run while the clock is ahead.
  await withWallClockStepped(3_600_000, () => sleep(600));
  t.equal((await fetch(`${server.url}/v1/sessions/${id}`)).status, 200, 'the session lives');
  t.equal((await fetch(`${server.url}/v1/znodes/eph?stat`)).status, 200, 'and so does its ephemeral');
});

t.test('the wall clock stepping an hour back keeps no dead session alive', async (t) => {
  const { server } = await serverFor(t, cfg);
  const id = await openSession(server.url, 300);
  // Nothing touches it: it must expire about 300 ms (and a check) from its creation, whatever the clock says, and
  // it is looked at while the clock is still back.
  const status = await withWallClockStepped(-3_600_000, async () => {
    await sleep(1500);
    return (await fetch(`${server.url}/v1/sessions/${id}`)).status;
  });
  t.equal(status, 410, 'the session expired on time (SessionExpired)');
});
