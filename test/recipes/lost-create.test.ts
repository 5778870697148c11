// A lock node created but whose answer was lost (ConnectionLoss after the request was sent) is found again, not
// created twice: the recipe settles (commits a write that changes nothing at its raised ZK-Session-Epoch) and then
// lists the lock's directory for its tagged node (client/recipes/common.ts settleLostWrites). The settling write is
// what makes that listing trustworthy: on an ensemble the member answering may not yet have applied a create the new
// leader committed during a failover (the listing carries the settling write's zxid), and a create still waiting on
// the server the client left is refused after it; without it a second create leaves the first as an orphan lock
// node that every waiter queues behind. A real server, a real client, and between them a TCP relay that passes the
// create through and cuts the connection instead of passing its answer back.
import t from 'tap';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { startTestServer } from '../helpers/server.js';
import { Mutex, ZkClient } from '../../client/index.js';

interface Relay {
  url: string;
  /** Request lines (`METHOD /path?query`) sent through the relay, in order. */
  requests: string[];
  /** Each request's whole text (head and body, as far as it came in the same read), in the same order. */
  texts: string[];
  /** The index in `requests` of the create whose answer was cut, or -1 while none has been. */
  cutAt: number;
  close(): void;
}

/** Relays to `target`; the first request whose line matches `cut` reaches the server, its answer never the client. */
async function cuttingRelay(target: number, cut: RegExp): Promise<Relay> {
  const sockets = new Set<Socket>();
  const relay: Relay = { url: '', requests: [], texts: [], cutAt: -1, close: () => {} };
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    let cutThis = false;
    client.on('data', (d: Buffer) => {
      const text = d.toString('latin1');
      for (const m of text.matchAll(/^(GET|HEAD|POST|PUT|DELETE) (\S+) HTTP\/1\.1\r$/gm)) {
        relay.requests.push(`${m[1]} ${m[2]}`);
        relay.texts.push(text.slice(m.index));
        if (relay.cutAt < 0 && cut.test(`${m[1]} ${m[2]}`)) {
          relay.cutAt = relay.requests.length - 1;
          cutThis = true;
        }
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (cutThis) {
        client.destroy();
        upstream.destroy();
      } else client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  relay.close = () => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  return relay;
}

t.test('a lock create whose answer is lost is found after a settling write, and not created twice', async (t) => {
  const s = await startTestServer({ tickTime: 100, minSessionTimeout: 400, maxSessionTimeout: 30000 });
  t.teardown(() => s.destroy());
  const direct = await ZkClient.connect({ servers: s.url, sessionTimeoutMs: 10000 });
  t.teardown(() => direct.close());
  await direct.create('/locks');
  await direct.create('/locks/m');

  const relay = await cuttingRelay(s.port, /^POST \/v1\/znodes\/locks\/m\/_c_/);
  t.teardown(() => relay.close());
  const c = await ZkClient.connect({ servers: relay.url, sessionTimeoutMs: 10000 });
  t.teardown(() => c.close());

  const m = new Mutex(c, '/locks/m');
  t.ok(await m.acquire(10000), 'the acquire succeeds');
  t.ok(relay.cutAt >= 0, "a create's answer was cut");

  const after = relay.requests.slice(relay.cutAt + 1);
  const settle = after.indexOf('POST /v1/multi');
  const list = after.findIndex((r) => r.startsWith('GET /v1/znodes/locks/m?children'));
  t.ok(settle >= 0, `the recipe settled after the lost create (${after.join(', ')})`);
  t.ok(list > settle, 'before it listed the directory for its node');
  const epochOf = (text: string | undefined) => Number(/^zk-session-epoch: (\d+)\r$/im.exec(text ?? '')?.[1]);
  const settling = relay.texts[relay.cutAt + 1 + settle];
  t.match(settling, /"op":"check","path":"\/zookeeper"/, 'with a check that changes nothing');
  t.ok(epochOf(settling) > epochOf(relay.texts[relay.cutAt]), `at a higher epoch than the lost create (${epochOf(relay.texts[relay.cutAt])} → ${epochOf(settling)})`);
  t.match(relay.texts[relay.cutAt + 1 + list], /^zk-min-zxid: \d+\r$/im, 'the listing waits for what the settling write saw');
  t.notOk(after.some((r) => r.startsWith('POST /v1/znodes/locks/m/')), 'and did not create again');

  const { children } = await direct.getChildren('/locks/m');
  t.equal(children.length, 1, 'one lock node: the one whose answer was lost, held');
  await m.release();
  t.same((await direct.getChildren('/locks/m')).children, [], 'released, it is gone');
});
