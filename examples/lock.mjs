// A distributed mutex: every copy of this program takes the lock in turn, holds it a moment, and lets it go.
//   npm run build && node examples/lock.mjs --url http://127.0.0.1:8080 --name demo --rounds 3 --hold-ms 500
// Several URLs (comma-separated) make the client fail over between nodes of an ensemble.
// Prints one JSON line per step, so a script (or test) can follow it.
import { parseArgs } from 'node:util';
import { ZkClient, Mutex } from '../dist/client/index.js';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.ZKGATE_URL ?? 'http://127.0.0.1:8080' },
    name: { type: 'string', default: 'demo' },
    rounds: { type: 'string', default: '3' },
    'hold-ms': { type: 'string', default: '500' },
    'session-ms': { type: 'string', default: '10000' },
  },
});
const say = (event, extra = {}) => console.log(JSON.stringify({ event, pid: process.pid, ...extra }));

const client = await ZkClient.connect({ servers: o.url, sessionTimeoutMs: Number(o['session-ms']) });
say('connected', { sessionId: client.sessionId });
// A lock holder must treat a lost connection as a lost lock: it can no longer prove its session lives.
client.onState((state) => say('state', { state }));

const mutex = new Mutex(client, `/examples/locks/${o.name}`);
for (let i = 0; i < Number(o.rounds); i++) {
  await mutex.acquire();
  say('acquired', { round: i, node: mutex.holder?.path, fencingToken: mutex.holder?.stat.czxid });
  await new Promise((r) => setTimeout(r, Number(o['hold-ms'])));
  await mutex.release();
  say('released', { round: i });
}
await client.close();
say('done');
