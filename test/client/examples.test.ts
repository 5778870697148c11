// The runnable examples in examples/ run briefly against a test server, so they cannot rot.
import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { ZkClient } from '../../client/index.js';
import { runExample } from './fixtures.js';

// Each example is a fresh Node process; on a loaded machine their startup dominates, hence one server and a longer bound.
t.setTimeout(240000);
const s = await startTestServer();
t.teardown(() => s.destroy());

t.test('examples/lock.mjs: two copies take turns holding the lock', async (t) => {
  const a = runExample('lock.mjs', ['--url', s.url, '--name', 'ex', '--rounds', '2', '--hold-ms', '100']);
  const b = runExample('lock.mjs', ['--url', s.url, '--name', 'ex', '--rounds', '2', '--hold-ms', '100']);
  t.teardown(() => Promise.all([a.kill(), b.kill()]));
  t.equal(await a.exited, 0, a.stderr());
  t.equal(await b.exited, 0, b.stderr());
  const steps = [...a.lines, ...b.lines].filter((l) => l.event === 'acquired');
  t.equal(steps.length, 4, 'each copy acquired twice');
  const tokens = steps.map((l) => Number(l.fencingToken));
  t.equal(new Set(tokens).size, 4, 'every acquisition had its own fencing token');
});

t.test('examples/election.mjs: one of two candidates leads, the other takes over when it stops', async (t) => {
  const first = runExample('election.mjs', ['--url', s.url, '--id', 'first', '--run-ms', '60000']);
  await first.waitFor((l) => l.event === 'isLeader');
  const second = runExample('election.mjs', ['--url', s.url, '--id', 'second', '--run-ms', '60000']);
  t.teardown(() => Promise.all([first.kill(), second.kill()]));
  t.match(await second.waitFor((l) => l.event === 'leaderIs'), { leader: 'first' });
  t.notOk(second.lines.some((l) => l.event === 'isLeader'), 'the second candidate waits');
  first.proc.kill('SIGTERM');
  t.equal(await first.exited, 0, first.stderr());
  await second.waitFor((l) => l.event === 'isLeader');
  second.proc.kill('SIGTERM');
  t.equal(await second.exited, 0, second.stderr());
});

t.test('examples/queue.mjs: what one process produces another consumes', async (t) => {
  const consumer = runExample('queue.mjs', ['consume', '--url', s.url, '--count', '3', '--wait-ms', '20000']);
  const producer = runExample('queue.mjs', ['produce', '--url', s.url, '--count', '3']);
  t.teardown(() => Promise.all([consumer.kill(), producer.kill()]));
  t.equal(await producer.exited, 0, producer.stderr());
  t.equal(await consumer.exited, 0, consumer.stderr());
  t.same(
    consumer.lines.filter((l) => l.event === 'took').map((l) => String(l.data).split(' ')[1]),
    ['0', '1', '2'],
    'consumed in the order produced',
  );
});

t.test('examples/config-watcher.mjs: prints the config tree and every change to it', async (t) => {
  const c = await ZkClient.connect({ servers: s.url, session: false });
  t.teardown(() => c.close());
  await c.create('/examples/config/db', 'host=a', { parents: true });
  const w = runExample('config-watcher.mjs', ['--url', s.url, '--run-ms', '8000']);
  t.teardown(() => w.kill());
  t.match(await w.waitFor((l) => l.event === 'initialized'), { paths: ['/examples/config', '/examples/config/db'] });
  await c.setData('/examples/config/db', 'host=b');
  t.match(await w.waitFor((l) => l.event === 'changed'), { path: '/examples/config/db', value: 'host=b' });
  await c.create('/examples/config/cache', 'on');
  t.match(await w.waitFor((l) => l.event === 'created' && l.path === '/examples/config/cache'), { value: 'on' });
});
