// Regression for Jepsen seed 2001: a follower that stays running (paused, not restarted) and falls behind the
// leader's compacted log installs a snapshot out of band, then must keep replicating on top of it.
import t from 'tap';
import { startCompactingEnsemble } from '../helpers/ensemble.js';
import { children, req, retry } from './client.js';

t.test('a running follower installs a snapshot, then keeps accepting new entries and survives a restart', async (t) => {
  const { ens, url, lagging } = await startCompactingEnsemble(t);
  t.equal((await req(`${url}/v1/znodes/live`, 'POST', 'root')).status, 201);
  await retry(() => children(lagging.url, '/'), (c) => c.includes('live'));

  // Stopped, not killed: its in-memory consensus state still describes the old log when it wakes.
  // More writes than the leader keeps in flight (256 messages), so the tail can only come from a snapshot.
  ens.pause(lagging.id);
  for (let i = 0; i < 400; i++) t.equal((await req(`${url}/v1/znodes/live/a${i}`, 'POST', `a${i}`)).status, 201, `write a${i}`, { diagnostic: false });
  ens.resume(lagging.id);

  const z1 = String((await req(`${url}/v1/sync`, 'POST')).body.zxid);
  const got = await retry(() => children(lagging.url, '/live', z1), (c) => c.length === 400, 30000);
  t.equal(got.length, 400, 'the woken follower has all 400 children');
  // The log line is written as the install completes, but reaches us through the child's stdout pipe, which can
  // trail the HTTP answer that showed the tree: wait (bounded) for it to arrive, then assert.
  const logs = await retry(async () => lagging.child?.stdout() ?? '', (s) => /snapshot installed/.test(s), 10000);
  t.match(logs, /installing snapshot from the leader/, 'it caught up by snapshot, not from the log');
  t.match(logs, /snapshot installed/, 'and the install completed in the running process');

  // After the install, ordinary replication must continue: writes through the leader and through the follower.
  for (let i = 0; i < 30; i++) {
    const via = i % 2 === 0 ? url : lagging.url;
    t.equal((await req(`${via}/v1/znodes/live/b${i}`, 'POST', `b${i}`)).status, 201, `write b${i}`, { diagnostic: false });
  }
  const z2 = String((await req(`${url}/v1/sync`, 'POST')).body.zxid);
  const after = await retry(() => children(lagging.url, '/live', z2), (c) => c.length === 430, 20000);
  t.equal(after.length, 430, 'the follower applies every entry committed after the snapshot');
  t.notMatch(lagging.child?.stdout() ?? '', /"level":(50|60)/, 'no error or fatal line on the follower');

  // The install and what followed are durable: a kill -9 and restart brings the same state back.
  await ens.kill(lagging.id);
  await ens.start(lagging.id);
  const back = await retry(() => children(lagging.url, '/live', z2), (c) => c.length === 430, 30000);
  t.equal(back.length, 430, 'after kill -9 and restart the follower still has all 430 children');
  const trees = await Promise.all(ens.nodes.map((n) => children(n.url, '/live', z2)));
  for (const tr of trees) t.same([...tr].sort(), [...(trees[0] as string[])].sort(), 'every node holds the same children');
  const v = await req(`${lagging.url}/v1/znodes/live/b29`);
  t.equal(v.body.data, 'b29', 'with their data');
});
