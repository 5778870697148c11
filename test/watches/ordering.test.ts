// Events reach a connection in zxid order across many rapid writes, and a watch's reply is read at the zxid it is
// armed at: under concurrent writers no change falls between the read and the watch (none lost, none doubled).
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { WatchClient, http } from './client.js';

const s = await startTestServer();
t.teardown(() => s.destroy());
const base = s.url;
const z = (p: string) => '/v1/znodes' + p;

t.test('500 concurrent writes to 5 nodes arrive in strictly increasing zxid order', async (t) => {
  for (let i = 0; i < 5; i++) await http(base, 'POST', z(`/o${i}`), '0');
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  for (let i = 0; i < 5; i++) await c.watch(`/o${i}`, 'persistent');
  const writes = [];
  for (let k = 1; k <= 100; k++) for (let i = 0; i < 5; i++) writes.push(http(base, 'PUT', z(`/o${i}`), String(k)));
  const rs = await Promise.all(writes);
  t.ok(rs.every((r) => r.status === 200));
  await c.sync();
  const zx = c.events().map((e) => Number(e.zxid));
  t.equal(zx.length, 500, 'one event per write');
  t.ok(zx.every((v, i) => i === 0 || v > (zx[i - 1] as number)), 'strictly increasing zxids');
  const written = new Set(rs.map((r) => String(r.body.stat && (r.body.stat as { mzxid: string }).mzxid)));
  t.ok(c.events().every((e) => written.has(e.zxid)), 'each event carries its write\'s zxid');
});

t.test('a data watch armed during concurrent writes sees every later change exactly once', async (t) => {
  await http(base, 'POST', z('/race'), '0');
  let stop = false;
  let version = 0;
  // Writers keep the pipeline busy so registrations land between, and inside, commit windows.
  const writer = async () => {
    while (!stop) {
      const r = await http(base, 'PUT', z('/race'), 'x');
      if (r.status === 200) version = Math.max(version, (r.body.stat as { version: number }).version);
    }
  };
  const writers = [writer(), writer(), writer(), writer()];
  const c = await WatchClient.open(base);
  t.teardown(() => c.close());
  let checked = 0;
  for (let i = 0; i < 40; i++) {
    const before = c.events().length;
    const r = await c.watch('/race', 'persistent');
    await c.request({ op: 'unwatch', path: '/race', kind: 'persistent' });
    await c.sync();
    const armed = c.events().slice(before);
    // Every event this registration delivered is for a change after the state its reply carried.
    const replyMzxid = Number((r.stat as { mzxid: string }).mzxid);
    t.ok(armed.every((e) => Number(e.zxid) > replyMzxid), `registration ${i}: no event at or before the reply's zxid ${r.zxid}`);
    t.ok(Number(r.zxid) >= replyMzxid, 'the reply zxid covers its stat');
    checked++;
  }
  // And no change is missed: with one persistent watch held through the writes, versions and events agree.
  const held = await WatchClient.open(base);
  t.teardown(() => held.close());
  const r0 = await held.watch('/race', 'persistent');
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(writers);
  await held.sync();
  const after = (await http(base, 'GET', z('/race'))).body.stat as { version: number; mzxid: string };
  const v0 = (r0.stat as { version: number }).version;
  t.equal(held.events().length, after.version - v0, 'one event per version change after the reply');
  t.equal(held.events().at(-1)?.zxid, after.mzxid, 'the last event is the last change');
  t.equal(checked, 40);
  t.ok(version > 0);
});
