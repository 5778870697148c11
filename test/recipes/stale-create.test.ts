// A lock create left behind on a member the SDK gave up on (paused, so its request waits in the socket until it
// wakes) must not be applied after the SDK's protected create found nothing and created again: that second node
// of the live session would be an orphan every waiter queues behind. The SDK raises ZK-Session-Epoch when it moves
// to another member, and the leader refuses the stale create (server/session-epochs.ts).
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { Mutex, ZkClient } from '../../client/index.js';
import { req, retry } from '../ensemble/client.js';

t.test("Mutex through a paused member: one lock node, and the lock free after release", async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leaderId = await ens.waitForLeader();
  const paused = ens.nodes.find((n) => n.id !== leaderId) as (typeof ens.nodes)[number];
  await retry(() => req(`${paused.url}/v1/znodes/`), (r) => r.status === 200);
  const others = ens.nodes.filter((n) => n !== paused).map((n) => n.url);
  // Requests go to the paused member first (ordered), then to the others.
  const zk = await ZkClient.connect({ servers: [paused.url, ...others], ordered: true, sessionTimeoutMs: 10000, requestTimeoutMs: 1500 });
  const other = await ZkClient.connect({ servers: others });
  t.teardown(async () => {
    ens.resume(paused.id);
    await zk.close().catch(() => {});
    await other.close().catch(() => {});
  });
  ens.pause(paused.id);
  const mutex = new Mutex(zk, '/stale-lock');
  t.ok(await mutex.acquire(20000), 'acquired through another member');
  ens.resume(paused.id);
  // The paused member reads the first create on waking and forwards it; give it time to be refused or applied.
  await retry(() => req(`${paused.url}/v1/znodes/`), (r) => r.status === 200);
  const zxid = String((await req(`${others[0]}/v1/sync`, 'POST')).body.zxid);
  await retry(() => req(`${paused.url}/v1/znodes/stale-lock?children`, 'GET', undefined, { 'zk-min-zxid': zxid }), (r) => r.status === 200);
  await new Promise((r) => setTimeout(r, 1000));
  await other.sync();
  const lockNodes = (await other.getChildren('/stale-lock')).children;
  t.equal(lockNodes.length, 1, `one lock node: ${lockNodes.join(' ')}`);
  await mutex.release();
  const next = new Mutex(other, '/stale-lock');
  t.ok(await next.acquire(5000), 'another client takes the lock once it is released');
  await next.release();
});
