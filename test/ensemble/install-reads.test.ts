// A follower that catches up by snapshot replaces its whole tree: wiped, then refilled in batches. Reads served in
// between would see a tree that never existed (a node known to exist missing, the root gone), older than what the
// same client read before, as ZooKeeper never shows: its followers serve no client while they sync.
import t from 'tap';
import { startCompactingEnsemble } from '../helpers/ensemble.js';
import { children, req, retry } from './client.js';

const MULTIS = 60;
const PER_MULTI = 500;
const VALUE = 'x'.repeat(400);

t.test('a follower installing a snapshot answers no read from a half-installed tree', async (t) => {
  const { ens, url, lagging } = await startCompactingEnsemble(t);
  t.equal((await req(`${url}/v1/znodes/keep`, 'POST', 'kept')).status, 201);
  t.equal((await req(`${url}/v1/znodes/bulk`, 'POST', '')).status, 201);
  const seen = await retry(() => req(`${lagging.url}/v1/znodes/keep`), (r) => r.status === 200);
  t.equal(seen.status, 200, 'the follower has /keep before it falls behind');

  // The tree the install will replace is large (30,000 znodes, wiped and refilled in batches), so it takes a while.
  for (let m = 0; m < MULTIS; m++) {
    const ops = Array.from({ length: PER_MULTI }, (_, i) => ({ op: 'create', path: `/bulk/n${m}-${i}`, data: VALUE }));
    const r = await req(`${url}/v1/multi`, 'POST', JSON.stringify({ ops }), { 'content-type': 'application/json' });
    t.equal(r.status, 200, `multi ${m}`, { diagnostic: false });
  }
  // More writes than the leader keeps in flight to it (256 messages): the follower can only catch up by snapshot.
  ens.pause(lagging.id);
  for (let i = 0; i < 400; i++) t.equal((await req(`${url}/v1/znodes/late${i}`, 'POST', 'l')).status, 201, `write late${i}`, { diagnostic: false });
  const zxid = String((await req(`${url}/v1/sync`, 'POST')).body.zxid);
  ens.resume(lagging.id);

  // Reads of /keep on the woken follower until it has the whole tree: each either finds /keep or is refused with a
  // retryable error (the client goes to another server); none may say it does not exist.
  const statuses = new Map<number, number>();
  const deadline = Date.now() + 60000;
  let done = false;
  let refused: Awaited<ReturnType<typeof req>> | undefined;
  // What ready answered right after each refused read.
  const readyWhileRefused: { status: number; mode: string; message?: string }[] = [];
  while (!done && Date.now() < deadline) {
    const r = await req(`${lagging.url}/v1/znodes/keep`);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    if (r.status === 404) break;
    if (r.status === 503) {
      refused ??= r;
      const ready = await req(`${lagging.url}/v1/admin/ready`);
      const srvr = await req(`${lagging.url}/v1/admin/srvr`);
      readyWhileRefused.push({ status: ready.status, mode: String(srvr.body.mode), message: String(ready.body.message) });
    }
    if (r.status === 200) {
      const c = await req(`${lagging.url}/v1/znodes/bulk?children`, 'GET', undefined, { 'ZK-Min-Zxid': '0' });
      done = c.status === 200 && (await req(`${lagging.url}/v1/znodes/late399`)).status === 200;
    }
  }
  t.notOk(statuses.has(404), `no read said /keep does not exist (statuses seen: ${JSON.stringify([...statuses])})`);
  t.ok(done, 'the follower caught up');
  // Without this the test could pass by never reading while the tree was being replaced.
  t.ok(refused, 'reads were made while it installed, and refused');
  t.equal(refused?.body.error, 'ConnectionLoss', 'as ConnectionLoss, which clients retry elsewhere');
  t.equal(refused?.headers.get('retry-after'), '1', 'with Retry-After');
  // Woken, the member first looks for a leader, then installs: ready is 503 throughout (one asked just as the install
  // ended may be 200), and 200 once it serves.
  t.ok(readyWhileRefused.some((x) => x.status === 503), `ready was 503 while reads were refused (${JSON.stringify(readyWhileRefused.map((x) => [x.status, x.mode]))})`);
  const logs = await retry(async () => lagging.child?.stdout() ?? '', (s) => /snapshot installed/.test(s), 10000);
  t.match(logs, /installing snapshot from the leader/, 'it caught up by snapshot');
  const at = (msg: string) => Date.parse(String(JSON.parse(logs.split('\n').find((l) => l.includes(msg)) ?? '{}').time));
  t.comment(`the install took ${at('"snapshot installed"') - at('"installing snapshot from the leader"')} ms; reads seen: ${JSON.stringify([...statuses])}`);
  t.equal((await children(lagging.url, '/bulk', zxid)).length, MULTIS * PER_MULTI, 'with the whole tree');
  t.match((await retry(() => req(`${lagging.url}/v1/admin/ready`), (r) => r.status === 200)).body, { ready: true }, 'and it is ready');
});
