// Watching configuration: a TreeCache mirrors /examples/config (one persistent recursive watch) and prints every change,
// surviving reconnects and failovers. Change it with: curl -XPOST localhost:8080/v1/znodes/examples/config/db -d 'host=a'
// (creates it), then curl -XPUT localhost:8080/v1/znodes/examples/config/db -d 'host=b'
//   npm run build && node examples/config-watcher.mjs --url http://127.0.0.1:8080 --run-ms 30000
import { parseArgs } from 'node:util';
import { ZkClient, TreeCache } from '../dist/client/index.js';

const { values: o } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.ZKGATE_URL ?? 'http://127.0.0.1:8080' },
    root: { type: 'string', default: '/examples/config' },
    'run-ms': { type: 'string', default: '30000' },
  },
});
const text = (n) => new TextDecoder().decode(n.data);
const say = (event, extra = {}) => console.log(JSON.stringify({ event, ...extra }));

const client = await ZkClient.connect({ servers: o.url, session: false });
try {
  await client.create(o.root, '', { parents: true });
} catch (e) {
  if (e.zkName !== 'NodeExists') throw e;
}
const cache = new TreeCache(client, o.root);
cache.on('created', (path, n) => say('created', { path, value: text(n) }));
cache.on('changed', (path, n) => say('changed', { path, value: text(n) }));
cache.on('deleted', (path) => say('deleted', { path }));
client.onState((state) => say('state', { state }));
await cache.start();
say('initialized', { paths: cache.paths() });
await new Promise((r) => setTimeout(r, Number(o['run-ms'])));
cache.close();
await client.close();
say('done');
