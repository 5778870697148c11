// A FIFO work queue: producers offer, consumers take; each element goes to exactly one consumer.
//   npm run build && node examples/queue.mjs produce --count 5 --url http://127.0.0.1:8080
//   node examples/queue.mjs consume --count 5          (waits for elements; --wait-ms bounds each take)
// The same queue is reachable with curl: POST /v1/recipes/queues/demo, POST /v1/recipes/queues/demo/poll?wait=10s.
import { parseArgs } from 'node:util';
import { ZkClient, DistributedQueue } from '../dist/client/index.js';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string', default: process.env.ZKGATE_URL ?? 'http://127.0.0.1:8080' },
    name: { type: 'string', default: 'demo' },
    count: { type: 'string', default: '5' },
    'wait-ms': { type: 'string', default: '10000' },
  },
});
const role = positionals[0] ?? 'produce';
const say = (event, extra = {}) => console.log(JSON.stringify({ event, ...extra }));

const client = await ZkClient.connect({ servers: o.url, session: false });
// The path the /v1/recipes/queues/<name> endpoints use, so curl users share this queue.
const queue = new DistributedQueue(client, `/zkgate/queues/${o.name}`);
for (let i = 0; i < Number(o.count); i++) {
  if (role === 'produce') {
    say('offered', { key: await queue.offer(`job ${i} from ${process.pid}`) });
  } else {
    const item = await queue.take(Number(o['wait-ms']));
    if (item === null) {
      say('empty');
      break;
    }
    say('took', { data: new TextDecoder().decode(item) });
  }
}
await client.close();
say('done');
