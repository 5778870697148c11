// Leader election with LeaderLatch: run several copies; exactly one says it leads, and when it stops (Ctrl-C), another takes over.
//   npm run build && node examples/election.mjs --url http://127.0.0.1:8080 --id worker-1 --run-ms 10000
import { parseArgs } from 'node:util';
import { ZkClient, LeaderLatch } from '../dist/client/index.js';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.ZKGATE_URL ?? 'http://127.0.0.1:8080' },
    name: { type: 'string', default: 'demo' },
    id: { type: 'string', default: `pid-${process.pid}` },
    'run-ms': { type: 'string', default: '10000' },
  },
});
const say = (event, extra = {}) => console.log(JSON.stringify({ event, id: o.id, ...extra }));

const client = await ZkClient.connect({ servers: o.url });
const latch = new LeaderLatch(client, `/examples/elections/${o.name}`, o.id);
latch.on('isLeader', () => say('isLeader'));
latch.on('notLeader', () => say('notLeader'));
await latch.start();
say('candidate', { node: latch.nodePath });
const leader = await latch.getLeader();
say('leaderIs', { leader: leader?.id ?? null });
// Run for --run-ms, or until SIGTERM/SIGINT: leaving cleanly hands leadership over at once (no session timeout to wait).
let timer;
await new Promise((r) => {
  timer = setTimeout(r, Number(o['run-ms']));
  process.once('SIGTERM', r);
  process.once('SIGINT', r);
});
clearTimeout(timer);
await latch.close();
await client.close();
say('done');
