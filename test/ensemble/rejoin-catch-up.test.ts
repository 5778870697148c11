// A member that rejoins after being down (or cut off) longer than syncLimit × tickTime serves no read until it has
// caught up with what the leader had committed when it came back: its first answer is never older than a write
// that was acknowledged before it rejoined (ZooKeeper's followers sync with the leader before serving clients).
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { req } from './client.js';

t.test('a restarted follower answers its first read with the latest acknowledged state, never an older one', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const lead = ens.node(leader).url;
  const follower = ens.nodes.find((n) => n.id !== leader);
  if (!follower) throw new Error('no follower');
  t.equal((await req(`${lead}/v1/znodes/k`, 'POST', '0')).status, 201);
  await ens.kill(follower.id);

  // Thousands of entries behind: its catch-up takes a while after it first hears the leader.
  const pad = 'x'.repeat(1000);
  let next = 1;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next <= 3000) {
        const i = next++;
        const r = await req(`${lead}/v1/znodes/k`, 'PUT', `${i}${pad}`);
        if (r.status !== 200) throw new Error(`set ${i}: ${r.status}`);
      }
    }),
  );
  const last = await req(`${lead}/v1/znodes/k`, 'PUT', 'last');
  t.equal(last.status, 200, '3,001 sets acknowledged while the follower was down');
  const lastZxid = Number(last.headers.get('zk-zxid'));

  await ens.start(follower.id);
  const refusals = new Set<string>();
  let refused = 0;
  let first: Awaited<ReturnType<typeof req>> | undefined;
  for (const deadline = Date.now() + 30000; Date.now() < deadline; ) {
    const r = await req(`${follower.url}/v1/znodes/k`);
    if (r.status === 200) {
      first = r;
      break;
    }
    refusals.add(`${r.status} ${String(r.body.error)}`);
    refused++;
  }
  t.ok(first, `the follower serves reads again (${refused} refused before)`);
  t.same([...refusals], refused > 0 ? ['503 ConnectionLoss'] : [], 'until then every read is 503 ConnectionLoss');
  t.equal(first?.body.data, 'last', 'its first answer is the last acknowledged write');
  t.ok(Number(first?.headers.get('zk-zxid')) >= lastZxid, 'at a zxid no older than that write');
  t.match(follower.child?.stdout(), /"msg":"caught up with the leader; serving reads"/, 'and it logs when it caught up');
});
