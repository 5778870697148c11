// Observers serve reads and forward writes without voting; watches fire on every node as entries apply.
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { WatchClient } from '../watches/client.js';
import { req, retry } from './client.js';

t.test('an observer serves reads, forwards writes, does not vote; a watcher on any node sees a write made elsewhere', async (t) => {
  const ens = await startEnsemble({ size: 4, observers: [4] });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  t.not(leader, 4, 'the observer never leads');
  const obs = ens.node(4);
  const mode = await retry(() => req(`${obs.url}/v1/admin/srvr`), (r) => r.body.mode === 'observer');
  t.equal(mode.body.mode, 'observer', 'srvr reports mode observer');

  // /zookeeper/config reads as a ZooKeeper member's does: a line per server, then the version. A member that has
  // just started serves reads once it has caught up with the leader (503 until then, node.ts readRefusal).
  const configs = await Promise.all(ens.nodes.map((n) => retry(() => req(`${n.url}/v1/znodes/zookeeper/config`), (r) => r.status !== 503)));
  const text = configs[0]?.body.data as string;
  const lines = text.split('\n');
  t.same(lines.map((l) => l.split('=')[0]), ['server.1', 'server.2', 'server.3', 'server.4', 'version'], '/zookeeper/config: every server, then version');
  t.match(lines[3], /^server\.4=[^:]+:\d+:\d+:observer;[^:]+:\d+$/, 'the observer is marked, with its HTTP address');
  t.match(lines[0], /^server\.1=[^:]+:\d+:\d+:participant;/, 'a voter is a participant');
  for (const [i, c] of configs.entries()) {
    t.equal(c.body.data, text, `node ${i + 1} shows the same config`);
    t.equal((c.body.stat as { dataLength: number }).dataLength, Buffer.byteLength(text), `node ${i + 1}: the stat counts it`);
  }

  const watchers = await Promise.all(ens.nodes.map((n) => WatchClient.open(n.url)));
  t.teardown(() => Promise.all(watchers.map((w) => w.close())));
  for (const w of watchers) t.equal((await w.watch('/seen', 'exists')).ok, true);

  const follower = ens.nodes.find((n) => n.id !== leader && n.id !== 4) as (typeof ens.nodes)[0];
  const created = await req(`${obs.url}/v1/znodes/seen`, 'POST', 'via observer');
  t.equal(created.status, 201, 'a write through the observer is forwarded and committed');
  for (const [i, w] of watchers.entries()) {
    t.ok(await w.until(() => w.eventList().includes('NodeCreated /seen')), `the watcher on node ${i + 1} got NodeCreated`);
  }
  const z = created.headers.get('zk-zxid') ?? '0';
  const onFollower = await req(`${follower.url}/v1/znodes/seen`, 'GET', undefined, { 'ZK-Min-Zxid': z });
  t.equal(onFollower.body.data, 'via observer');

  // With two of the three voters stopped, the observer cannot make a quorum: writes are refused.
  const voters = ens.nodes.filter((n) => n.id !== 4 && n.id !== leader).map((n) => n.id);
  for (const id of voters) ens.pause(id);
  const refused = await req(`${obs.url}/v1/znodes/no-quorum`, 'POST', 'x');
  t.equal(refused.status, 503, 'no quorum without the voters, whatever the observer does');
  for (const id of voters) ens.resume(id);
});
