// The znodes route's blocking read (GET /v1/znodes/<p>?wait=30s&index=<zxid>): waits, bounded, for a change after
// `index` to what the GET answers with (data, ?children, or ?stat), then lets the route read the current state.
import type { FastifyRequest } from 'fastify';
import { validatePath } from '../server/tree/paths.js';
import type { ZkNode } from '../server/node.js';
import type { WatchHub, WatchSink } from '../server/watches/hub.js';
import type { BlockingMode } from '../server/watches/blocking.js';
import { flag, requestContext } from './context.js';

export function blockingReadVia<S extends WatchSink>(node: ZkNode, hub: WatchHub<S>) {
  return async (req: FastifyRequest, path: string, index: number, waitMs: number): Promise<void> => {
    validatePath(path);
    // Refused before the wait, not after it: a member that cannot serve the read should not hold the client for minutes.
    node.requireCurrentTree();
    const ctx = requestContext(req, node);
    const q = req.query as { children?: string; stat?: string };
    const mode: BlockingMode = flag(q.children) ? 'children' : flag(q.stat) ? 'stat' : 'data';
    // A client that hangs up stops its wait, so abandoned waits do not hold a slot until the timeout.
    const ac = new AbortController();
    const socket = req.raw.socket;
    const abort = () => ac.abort();
    socket.once('close', abort);
    try {
      await hub.blocking.wait(path, mode, index, waitMs, ctx.auth, ac.signal);
    } finally {
      socket.off('close', abort);
    }
  };
}
