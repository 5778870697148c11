// A raised jute.maxbuffer must hold on an ensemble too: a log entry goes to the followers whole, in one peer frame.
// With the frame bound fixed at 8 MiB, a 10 MiB setData never replicated and every write after it timed out.
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { peerBounds } from '../../server/quorum/engine-config.js';
import { defaultConfig } from '../../server/config.js';
import { req, retry } from './client.js';

t.test('the peer bounds grow with jute.maxbuffer, and never shrink below their defaults', async (t) => {
  const d = defaultConfig();
  t.same(peerBounds(d), { maxFrameBytes: 8 << 20, maxQueueBytes: 64 << 20 }, 'the defaults, for the default 1 MiB');
  const raised = peerBounds({ ...d, juteMaxBuffer: 16 << 20 });
  t.ok(raised.maxFrameBytes >= 2 * (16 << 20), 'a frame holds an entry of twice jute.maxbuffer');
  t.ok(raised.maxQueueBytes >= 2 * raised.maxFrameBytes, 'a link queues two such frames');
});

t.test('a 10 MiB setData under jute.maxbuffer=16 MiB replicates to every member, and writes go on after it', async (t) => {
  const ens = await startEnsemble({ extra: ['jute.maxbuffer=16777216'] });
  t.teardown(() => ens.destroy());
  const leader = ens.node(await ens.waitForLeader());
  const size = 10 << 20;
  t.equal((await req(`${leader.url}/v1/znodes/big`, 'POST')).status, 201);
  const r = await fetch(`${leader.url}/v1/znodes/big`, { method: 'PUT', body: Buffer.alloc(size, 0x78), signal: AbortSignal.timeout(30000) });
  await r.arrayBuffer();
  t.equal(r.status, 200, 'the large write commits');
  const zxid = r.headers.get('zk-zxid') ?? '0';
  for (const n of ens.nodes) {
    const stat = await retry(
      async () => (await req(`${n.url}/v1/znodes/big?stat`, 'GET', undefined, { 'ZK-Min-Zxid': zxid })).body.stat as { dataLength?: number } | undefined,
      (s) => s?.dataLength === size,
    );
    t.equal(stat?.dataLength, size, `member ${n.id} has all of it`);
  }
  t.equal((await req(`${leader.url}/v1/znodes/after`, 'POST')).status, 201, 'a write after it commits');
});
