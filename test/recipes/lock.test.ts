// Mutual exclusion under contention, with real sessions: SDK mutexes, a holder frozen until its session expires
// (a real child process), and the HTTP lock endpoints.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { Mutex, ZkClient, isZkError } from '../../client/index.js';
import { clients, closeAll, eventually, runExample } from '../client/fixtures.js';

const SHORT = { tickTime: 100, minSessionTimeout: 400, maxSessionTimeout: 30000 };

t.test('N clients contend for one mutex: never two holders, and the counter it guards ends exact', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const cs = await clients(5, s.url);
  t.teardown(() => closeAll(cs));
  const first = cs[0] as ZkClient;
  await first.create('/counter', '0');
  const holders = new Set<number>();
  let maxHolders = 0;
  const rounds = 3;
  await Promise.all(
    cs.map(async (c, i) => {
      const m = new Mutex(c, '/locks/counter');
      for (let r = 0; r < rounds; r++) {
        if (!(await m.acquire(30000))) throw new Error(`client ${i} round ${r} timed out`);
        holders.add(i);
        maxHolders = Math.max(maxHolders, holders.size);
        // Read-modify-write without a version: correct only under mutual exclusion.
        const v = Number((await c.getString('/counter')).data);
        await c.setData('/counter', String(v + 1));
        holders.delete(i);
        await m.release();
      }
    }),
  );
  t.equal(maxHolders, 1, 'the holder set never had more than one member');
  t.equal((await first.getString('/counter')).data, String(cs.length * rounds), 'no increment was lost');
  t.same((await first.getChildren('/locks/counter')).children, [], 'every lock node was removed');
});

t.test('reentrant per instance; a timed-out acquire leaves no node; waiters watch only their predecessor', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const [a, b, c] = await clients(3, s.url);
  t.teardown(() => closeAll([a, b, c] as ZkClient[]));
  const ma = new Mutex(a as ZkClient, '/locks/re');
  t.ok(await ma.acquire());
  t.ok(await ma.acquire(), 'acquired again by the holder');
  const mb = new Mutex(b as ZkClient, '/locks/re');
  t.notOk(await mb.acquire(200), 'another instance times out');
  t.equal((await (a as ZkClient).getChildren('/locks/re')).children.length, 1, 'the timed-out waiter removed its node');
  const waitB = mb.acquire(20000);
  const mc = new Mutex(c as ZkClient, '/locks/re');
  const waitC = mc.acquire(20000);
  await eventually(async () => (await (a as ZkClient).getChildren('/locks/re')).children.length, (n) => n === 3);
  const nodes = (await (a as ZkClient).getChildren('/locks/re')).children.sort((x, y) => Number(x.slice(-10)) - Number(y.slice(-10)));
  const watched = await eventually(
    async () => JSON.stringify(await (a as ZkClient).admin('wchp')),
    (w) => w.includes(nodes[0] as string) && w.includes(nodes[1] as string),
  );
  t.ok(watched.includes(nodes[0] as string) && watched.includes(nodes[1] as string), 'each waiter watches the node just ahead of it');
  t.notOk(watched.includes(nodes[2] as string), 'nobody watches the last node');
  t.notOk(watched.includes('"/locks/re"'), 'nobody watches the lock directory (no herd)');
  await ma.release();
  t.ok(ma.isAcquired(), 'one release of two leaves it held');
  await ma.release();
  t.ok(await waitB);
  t.notOk(mc.isAcquired());
  await mb.release();
  t.ok(await waitC);
  await mc.release();
});

t.test('a frozen holder: its session expires, its node goes, and only then the next waiter holds the lock', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const holder = runExample('lock.mjs', ['--url', s.url, '--name', 'frozen', '--rounds', '1', '--hold-ms', '60000', '--session-ms', '1500']);
  t.teardown(() => holder.kill());
  const acquired = await holder.waitFor((l) => l.event === 'acquired');
  const connected = holder.lines.find((l) => l.event === 'connected') as { sessionId: string };
  const waiter = await ZkClient.connect({ servers: s.url });
  t.teardown(() => waiter.close());
  const m = new Mutex(waiter, '/examples/locks/frozen');
  holder.proc.kill('SIGSTOP');
  const t0 = Date.now();
  t.ok(await m.acquire(20000), 'the waiter got the lock');
  t.comment(`lock passed ${Date.now() - t0} ms after the holder froze (session timeout 1500 ms)`);
  const info = await fetch(`${s.url}/v1/sessions/${connected.sessionId}`);
  t.equal(info.status, 410, "the holder's session had ended before the lock passed");
  t.not(m.holder?.path, acquired.node, 'the waiter holds its own node');
  t.ok(Number(m.holder?.stat.czxid) > Number(acquired.fencingToken), 'the fencing token grew');
  holder.proc.kill('SIGCONT');
  await holder.waitFor((l) => l.event === 'state' && l.state === 'Expired');
  t.pass('the thawed holder learns its session expired (so it knows the lock is lost)');
  await m.release();
});

interface LockReply {
  status: number;
  body: { key?: string; held?: boolean; position?: number; zxid?: string; error?: string; applied?: boolean };
}

async function lockReq(url: string, name: string, session: string | undefined, method = 'POST', query = ''): Promise<LockReply> {
  const r = await fetch(`${url}/v1/recipes/locks/${name}${query}`, { method, headers: session ? { 'ZK-Session': session } : {} });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as LockReply['body']) : {} };
}

async function session(url: string, timeoutMs = 10000): Promise<string> {
  const r = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timeoutMs }) });
  return ((await r.json()) as { sessionId: string }).sessionId;
}

t.test('HTTP lock: sessions contend by long-poll and never hold it together; 202 keeps the place; DELETE frees it', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const sessions = await Promise.all([1, 2, 3, 4].map(() => session(s.url)));
  const holders = new Set<string>();
  let maxHolders = 0;
  let grants = 0;
  await Promise.all(
    sessions.map(async (sid) => {
      for (let r = 0; r < 3; r++) {
        let got = await lockReq(s.url, 'http', sid, 'POST', '?wait=200ms');
        while (got.status === 202) got = await lockReq(s.url, 'http', sid, 'POST', '?wait=200ms');
        t.equal(got.status, 200);
        holders.add(sid);
        maxHolders = Math.max(maxHolders, holders.size);
        grants++;
        await new Promise((res) => setTimeout(res, 10));
        holders.delete(sid);
        t.equal((await lockReq(s.url, 'http', sid, 'DELETE')).status, 204);
      }
    }),
  );
  t.equal(grants, 12);
  t.equal(maxHolders, 1, 'never two holders');
  const [a, b] = sessions as [string, string];
  const held = await lockReq(s.url, 'h2', a);
  t.equal(held.status, 200);
  const waiting = await lockReq(s.url, 'h2', b, 'POST', '?wait=100ms');
  t.equal(waiting.status, 202);
  t.equal(waiting.body.position, 1);
  const again = await lockReq(s.url, 'h2', b, 'POST', '?wait=100ms');
  t.equal(again.body.key, waiting.body.key, 'asking again finds the same place in line');
  const who = await lockReq(s.url, 'h2', undefined, 'GET');
  t.match(who.body, { key: held.body.key, owner: a, waiting: 1 });
  const pending = lockReq(s.url, 'h2', b, 'POST', '?wait=20s');
  await new Promise((res) => setTimeout(res, 100));
  t.equal((await lockReq(s.url, 'h2', a, 'DELETE')).status, 204);
  const granted = await pending;
  t.equal(granted.status, 200, 'the waiter was woken by the release');
  t.equal(granted.body.key, waiting.body.key);
  t.ok(Number(granted.body.zxid) > Number(held.body.zxid), 'the fencing zxid grew');
});

t.test('HTTP lock: hanging up leaves the line; a session ending frees the lock; bad requests are ZooKeeper errors', async (t) => {
  const s = await startTestServer({ ...SHORT, recipeMaxWaitersPerName: 2 });
  t.teardown(() => s.destroy());
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => session(s.url)));
  t.equal((await lockReq(s.url, 'x', a)).status, 200);
  const ac = new AbortController();
  const hung = fetch(`${s.url}/v1/recipes/locks/x?wait=20s`, { method: 'POST', headers: { 'ZK-Session': b as string }, signal: ac.signal }).catch(() => 'aborted');
  await eventually(async () => (await lockReq(s.url, 'x', undefined, 'GET')).body, (bd) => (bd as { waiting?: number }).waiting === 1);
  ac.abort();
  await hung;
  await eventually(async () => (await lockReq(s.url, 'x', undefined, 'GET')).body, (bd) => (bd as { waiting?: number }).waiting === 0);
  t.pass('the waiter that hung up left the line');

  const w1 = lockReq(s.url, 'x', b, 'POST', '?wait=20s');
  const w2 = lockReq(s.url, 'x', c, 'POST', '?wait=20s');
  await eventually(async () => (await lockReq(s.url, 'x', undefined, 'GET')).body, (bd) => (bd as { waiting?: number }).waiting === 2);
  const third = await lockReq(s.url, 'x', await session(s.url), 'POST', '?wait=1s');
  t.equal(third.status, 503, 'past recipeMaxWaitersPerName a request is refused');
  t.equal(third.body.applied, false);
  await fetch(`${s.url}/v1/sessions/${a}`, { method: 'DELETE' });
  const r1 = await w1;
  t.equal(r1.status, 200, "the holder's session ended: the next waiter holds the lock");
  await fetch(`${s.url}/v1/sessions/${b}`, { method: 'DELETE' });
  t.equal((await w2).status, 200);

  t.match(await lockReq(s.url, 'x', undefined), { status: 400, body: { error: 'BadArguments' } });
  t.match(await lockReq(s.url, 'x', a), { status: 410, body: { error: 'SessionExpired' } });
  t.match(await lockReq(s.url, 'a%2Fb', c), { status: 400, body: { error: 'BadArguments' } });
  t.match(await lockReq(s.url, 'x', c, 'POST', '?wait=soon'), { status: 400, body: { error: 'BadArguments' } });
  t.match(await lockReq(s.url, 'none', c, 'DELETE'), { status: 404, body: { error: 'NoNode' } });
  t.match(await lockReq(s.url, 'none', undefined, 'GET'), { status: 404, body: { error: 'NoNode' } });
});

t.test('an SDK Mutex on /zkgate/locks/<name> and the HTTP lock of that name exclude each other', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const c = await ZkClient.connect({ servers: s.url });
  t.teardown(() => c.close());
  const m = new Mutex(c, '/zkgate/locks/shared');
  t.ok(await m.acquire());
  const sid = await session(s.url);
  t.equal((await lockReq(s.url, 'shared', sid, 'POST', '?wait=200ms')).status, 202, 'HTTP waits behind the SDK holder');
  const pending = lockReq(s.url, 'shared', sid, 'POST', '?wait=20s');
  await m.release();
  t.equal((await pending).status, 200);
  t.notOk(await m.acquire(200), 'the SDK waits behind the HTTP holder');
  t.ok(isZkError(await c.delete('/zkgate/locks/shared').catch((e: unknown) => e), 'NotEmpty'));
});

t.test('HTTP lock and election requests refused before they wait leave no listener behind', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  for (let i = 0; i < 30; i++) {
    t.equal((await lockReq(s.url, 'x', undefined)).status, 400);
    t.equal((await fetch(`${s.url}/v1/recipes/elections/e/campaign`, { method: 'POST', body: 'v' })).status, 400);
  }
  // The process-wide shutdown signal would have held 60 listeners; Node warns past 10.
  await new Promise((r) => setImmediate(r));
  t.same(warnings.filter((w) => w.includes('MaxListenersExceeded')), [], 'no listener leak warning');
});

t.test('HTTP lock: concurrent requests of one session share one place in the line', async (t) => {
  const s = await startTestServer(SHORT);
  t.teardown(() => s.destroy());
  const a = await session(s.url);
  const [r1, r2, r3] = await Promise.all([lockReq(s.url, 'same', a), lockReq(s.url, 'same', a), lockReq(s.url, 'same', a)]);
  t.same([r1.status, r2.status, r3.status], [200, 200, 200]);
  t.equal(r2.body.key, r1.body.key, 'one key');
  t.equal(r3.body.key, r1.body.key);
  const children = await fetch(`${s.url}/v1/znodes/zkgate/locks/same?children`).then((r) => r.json() as Promise<{ children: string[] }>);
  t.equal(children.children.length, 1, 'one node for the session');
});
