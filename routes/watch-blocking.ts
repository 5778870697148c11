// The znodes route's blocking read (GET /v1/znodes/<p>?wait=30s&index=<zxid>): waits, bounded, for a change after
// `index` to what the GET answers with (data, ?children, or ?stat), then lets the route read the current state.
import type { FastifyRequest } from 'fastify';
import { setMaxListeners } from 'node:events';
import type { Socket } from 'node:net';
import { validatePath } from '../server/tree/paths.js';
import type { ZkNode } from '../server/node.js';
import type { WatchHub, WatchSink } from '../server/watches/hub.js';
import type { BlockingMode } from '../server/watches/blocking.js';
import { flag, requestContext } from './context.js';

const HANG_UP = Symbol('zkgate.hangUp');

/**
 * One signal per connection, aborted when it closes, shared by every blocking read on it: a client pipelining blocking
 * reads would otherwise add a close listener per read to one socket. Each read's listener on the signal is removed when
 * its wait ends, so the signal holds at most the connection's unanswered requests (maxPendingPerConnection, plus one
 * read's worth), which is why it has no listener bound of its own.
 */
function hangUpSignal(socket: Socket & { [HANG_UP]?: AbortSignal }): AbortSignal {
  let signal = socket[HANG_UP];
  if (signal === undefined) {
    const ac = new AbortController();
    setMaxListeners(0, ac.signal);
    socket.once('close', () => ac.abort());
    signal = socket[HANG_UP] = ac.signal;
  }
  return signal;
}

export function blockingReadVia<S extends WatchSink>(node: ZkNode, hub: WatchHub<S>) {
  return async (req: FastifyRequest, path: string, index: number, waitMs: number): Promise<void> => {
    validatePath(path);
    // Refused before the wait, not after it: a member that cannot serve the read should not hold the client for minutes.
    node.requireCurrentTree();
    const ctx = requestContext(req, node);
    const q = req.query as { children?: string; stat?: string };
    const mode: BlockingMode = flag(q.children) ? 'children' : flag(q.stat) ? 'stat' : 'data';
    // A client that hangs up stops its wait, so abandoned waits do not hold a slot until the timeout.
    await hub.blocking.wait(path, mode, index, waitMs, ctx.auth, hangUpSignal(req.raw.socket));
  };
}
