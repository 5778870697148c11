// A starting server says where it is: a first line naming the process, a line per step, and a warning naming the
// step when start-up is slow (server/startup-trace.ts).
import t from 'tap';
import { logInto } from '../helpers/log.js';
import { StartupTrace } from '../../server/startup-trace.js';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.js';
import { startEnsemble } from '../helpers/ensemble.js';
import { startTestServer } from '../helpers/server.js';

interface Line {
  level: number;
  msg: string;
  step?: string;
  elapsedMs?: number;
  myid?: number;
  nodeFlags?: string[];
}

function capture() {
  const lines: Line[] = [];
  return { lines, log: logInto(lines, 'info') };
}

/** The messages in `lines` that are in `wanted`, in the order logged. */
function inOrder(lines: Line[], wanted: string[]): string[] {
  return lines.map((l) => l.msg).filter((m) => wanted.includes(m));
}

t.test('an ensemble member logs each start-up step, the peer port included, before it serves', async (t) => {
  const ens = await startEnsemble({ size: 3 });
  t.teardown(() => ens.destroy());
  const n = ens.node(1);
  // Whole lines only: the member goes on logging (its election) while this reads.
  const lines = (n.child?.stdout() ?? '')
    .split('\n')
    .slice(0, -1)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
  const first = lines[0];
  t.equal(first?.msg, 'zkgate starting', 'the first line the process logs');
  t.equal(first?.myid, 1);
  t.same(first?.nodeFlags, [...SERVER_NODE_FLAGS]);
  const steps = [
    'starting: reading the TLS and secret files',
    `starting: opening the store in ${n.dataDir}`,
    'starting: applying a standalone write-ahead log left in the data dir, if any',
    'starting: recovering from an interrupted snapshot install, if any',
    'starting: reading the tree',
    'starting: reading the consensus log',
    `starting: binding the peer port 127.0.0.1:${n.peerPort}`,
    'starting: restoring sessions',
    'store opened',
    'starting: building the HTTP routes',
    `starting: binding the HTTP port 127.0.0.1:${n.httpPort}`,
    'zkgate serving',
  ];
  t.same(inOrder(lines, steps), steps);
});

t.test('a standalone node has no consensus steps', async (t) => {
  const { lines, log } = capture();
  const s = await startTestServer({}, log);
  t.teardown(() => s.destroy());
  const msgs = lines.map((l) => l.msg);
  t.ok(msgs.includes(`starting: opening the store in ${s.dataDir}`));
  t.ok(msgs.includes('starting: reading the tree'));
  t.ok(msgs.includes("starting: replaying the write-ahead log past LMDB's last flush, if anything"), 'its recovery step is named for what it does');
  t.notOk(msgs.some((m) => m.includes('consensus log') || m.includes('peer port') || m.includes('standalone write-ahead') || m.includes('snapshot install')));
  t.equal(msgs.at(-1), 'zkgate serving');
});

t.test('a start slower than the interval is named with its step, until it is done', async (t) => {
  const { lines, log } = capture();
  const trace = new StartupTrace(log, 30);
  trace.at('binding the peer port 127.0.0.1:1');
  // Every 30 ms, but a loaded machine may run the timer late: waited for, up to 10 s, rather than for a fixed time.
  const deadline = Date.now() + 10_000;
  while (lines.filter((l) => l.level === 40).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const warned = lines.filter((l) => l.level === 40);
  t.ok(warned.length >= 2, `warned again while still slow (${warned.length})`);
  t.equal(warned[0]?.step, 'binding the peer port 127.0.0.1:1');
  t.match(warned[0]?.msg, /^still starting after \d+ ms: binding the peer port 127\.0\.0\.1:1$/);
  t.ok((warned[0]?.elapsedMs ?? 0) >= 30);
  trace.done();
  const after = lines.length;
  await new Promise((r) => setTimeout(r, 150));
  t.equal(lines.length, after, 'nothing more once done');
});

t.test("a zoo.cfg's clientPort is named at start as not served, with where clients go instead", async (t) => {
  const { lines, log } = capture();
  const s = await startTestServer({ clientPort: 2181 }, log);
  t.teardown(() => s.destroy());
  const warning = lines.find((l) => l.msg.startsWith('clientPort 2181'));
  t.equal(warning?.level, 40, 'a warning');
  t.equal(warning?.msg, `clientPort 2181 (ZooKeeper's wire protocol) is not served: clients reach this node over HTTP at ${s.url}`);
  const { lines: plain, log: plainLog } = capture();
  const p = await startTestServer({}, plainLog);
  t.teardown(() => p.destroy());
  t.notOk(plain.some((l) => l.msg.includes('clientPort')), 'nothing without one');
});
