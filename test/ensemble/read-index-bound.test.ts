// A follower holds at most 4,096 linearizable reads waiting for the leader's read index (the leader's own bound on
// them): past it a read is refused at once with 503, instead of a queue that many clients could grow without
// bound for as long as the leader is slow. The waiting reads are answered once the leader answers.
import t from 'tap';
import net from 'node:net';
import { startEnsemble } from '../helpers/ensemble.js';
import { req, retry } from './client.js';

const BOUND = 4096;

t.test('past 4,096 linearizable reads waiting on a follower, the next is 503 at once; the waiting ones are answered when the leader is back', async (t) => {
  // 300 ticks (15 s) without the leader before a follower gives up on it, and 20 s (syncLimit × tickTime) before it
  // counts itself cut off and refuses reads: time to queue the reads of 4,096 connections behind a paused leader on
  // a loaded machine.
  const ens = await startEnsemble({ extra: ['electionTicks=300', 'syncLimit=40', 'proposalTimeoutMs=30000'] });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  const follower = ens.nodes.find((n) => n.id !== leader);
  if (!follower) throw new Error('no follower');
  t.equal((await retry(() => req(`${follower.url}/v1/znodes/?consistency=linearizable`), (r) => r.status === 200)).status, 200, 'a linearizable read on the follower');

  // One read on each of 4,096 connections: a connection's requests run one at a time (server/request-order.ts), so
  // reads wait side by side only from different connections.
  const CONNECTIONS = BOUND;
  const answersOf: string[] = Array<string>(CONNECTIONS).fill('');
  const socks: net.Socket[] = [];
  t.teardown(() => socks.forEach((sock) => sock.destroy()));
  for (let i = 0; i < CONNECTIONS; i++) {
    const sock = net.connect(follower.httpPort, '127.0.0.1');
    sock.on('error', () => {});
    sock.on('data', (d: Buffer) => (answersOf[i] += d.toString('latin1')));
    socks.push(sock);
  }
  await Promise.all(socks.map((sock) => new Promise((r) => (sock.connecting ? sock.once('connect', r) : r(null)))));
  const one = `GET /v1/znodes/?consistency=linearizable HTTP/1.1\r\nHost: x\r\n\r\n`;

  ens.pause(leader);
  t.teardown(() => ens.resume(leader));
  for (const sock of socks) sock.write(one);
  const pending = async () => Number(/^zkgate_pending_read_index (\d+)$/m.exec(await (await fetch(`${follower.url}/metrics`)).text())?.[1]);
  let waiting = await pending();
  for (const deadline = Date.now() + 10_000; waiting < BOUND && Date.now() < deadline; ) waiting = await pending();
  t.equal(waiting, BOUND, 'the reads all wait for the paused leader (zkgate_pending_read_index)');
  const t0 = Date.now();
  const refused = await req(`${follower.url}/v1/znodes/?consistency=linearizable`);
  t.equal(refused.status, 503, 'one more is 503');
  t.ok(Date.now() - t0 < 1000, 'at once, not after the read timeout');
  t.equal(refused.body.error, 'ConnectionLoss');
  t.equal(refused.body.applied, false);
  t.match(refused.body.message, /^linearizable read refused: 4096 linearizable reads and syncs already wait for a read index here/);
  const sync = await req(`${follower.url}/v1/sync`, 'POST');
  t.equal(sync.status, 503, 'and so is a sync');

  ens.resume(leader);
  const answers = () => answersOf.join('');
  const ok = () => answers().split('HTTP/1.1 200 ').length - 1;
  const deadline = Date.now() + 20000;
  while (ok() < BOUND && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(ok(), BOUND, 'every waiting read is answered 200 once the leader answers');
  t.equal(answers().split('HTTP/1.1 ').length - 1, BOUND, 'and nothing else');
});
