// A watch's reply and the event right after it can arrive in one network read; the event must still reach the
// listener. The SDK used to set the registration's fromZxid in the promise continuation of the reply, which runs
// after every frame of that read is dispatched, so the event was dropped as "already in the state" — the lost
// wake-up behind intermittent recipe failures (a LeaderLatch that never took over, a queue consumer that stalled).
import t from 'tap';
import type { Socket } from 'node:net';
import { startTestServer } from '../helpers/server.js';
import { ZkClient } from '../../client/index.js';
import { closeAll, eventually } from './fixtures.js';

async function watchCount(url: string): Promise<number> {
  const r = (await (await fetch(`${url}/v1/admin/mntr`)).json()) as { zk_watch_count: number };
  return r.zk_watch_count;
}

/** The client's WebSocket's TCP socket (internal, reached only to hold back reads). */
function socketOf(c: ZkClient): Socket {
  const ws = (c as unknown as { conn: { ws?: { _socket: Socket } } }).conn.ws;
  if (!ws) throw new Error('client has no WebSocket yet');
  return ws._socket;
}

for (const kind of ['exists', 'data', 'children'] as const) {
  t.test(`a ${kind} watch fires for a change whose event is read together with the watch's reply`, async (t) => {
    const s = await startTestServer();
    t.teardown(() => s.destroy());
    const watcher = await ZkClient.connect({ servers: s.url, session: false });
    const writer = await ZkClient.connect({ servers: s.url, session: false });
    t.teardown(() => closeAll([watcher, writer]));
    await writer.create('/race', 'v0');
    await writer.create('/race/c', 'x');
    await watcher.exists('/'); // the WebSocket is up
    const before = await watchCount(s.url);

    // Hold back what the server sends, arm the watch, and change the node once the server holds the watch:
    // the reply and the event then wait in the same receive buffer.
    const sock = socketOf(watcher);
    sock.pause();
    const armed = watcher.watchOnce('/race', kind);
    t.equal(await eventually(() => watchCount(s.url), (n) => n > before), before + 1, 'the server holds the watch');
    if (kind === 'children') await writer.create('/race/d', 'y');
    else await writer.setData('/race', 'v1');
    sock.resume();

    const { state, fired } = await armed;
    t.ok(state.stat, 'armed against the node as it was');
    const e = await Promise.race([fired, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    t.match(e, { type: kind === 'children' ? 'NodeChildrenChanged' : 'NodeDataChanged', path: '/race' }, 'the event reached the listener');
  });
}
