// What the two fast paths share (fast-read.ts for getData, fast-write.ts for setData and create): which requests
// are plain enough to be answered before fastify, and how such an answer is written and counted, as the fastify
// route and its hooks would write and count it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ZkNode } from './node.js';

export const PREFIX = '/v1/znodes/';

/** Where every answered request is counted (NodeMetrics), for the fast paths to count theirs the same way. */
export interface FastPathRecorder {
  answered(sock: Socket, op: string, status: number, ms: number, sessionId: string | undefined): void;
  /** True once the server is shutting down: an answer then closes its connection, as the routes' answers do. */
  closing(): boolean;
}

/** No ZK-Min-Zxid, or one this node has already applied (no wait); a later or malformed one is the route's. */
function minZxidReached(node: ZkNode, minZxid: string | string[] | undefined): boolean {
  return minZxid === undefined || (typeof minZxid === 'string' && /^\s*\d+\s*$/.test(minZxid) && Number(minZxid) <= node.appliedZxid);
}

/**
 * The client's address when `req` is a plain `method` request of /v1/znodes/…: no query string, none of
 * `routeHeaders`, no ZK-Min-Zxid beyond what this node has applied. Undefined when the route must take it.
 */
export function plainRequest(node: ZkNode, req: IncomingMessage, method: string, routeHeaders: readonly string[]): string | undefined {
  const url = req.url;
  if (req.method !== method || url === undefined || !url.startsWith(PREFIX) || url.includes('?')) return undefined;
  const h = req.headers;
  for (const k of routeHeaders) if (h[k] !== undefined) return undefined;
  // A browser's request: the routes check its origin and add the CORS headers (server/origins.ts). A client
  // certificate: the routes authenticate it (server/tls.ts), where these paths know only the address.
  if (h.origin !== undefined || (req.socket as TLSSocket).authorized === true) return undefined;
  // Refused by the routes (an HTTP/1.1 request must name its host).
  if (h.host === undefined) return undefined;
  if (!minZxidReached(node, h['zk-min-zxid'])) return undefined;
  return req.socket.remoteAddress;
}

/**
 * Writes a JSON answer and counts it. `headers` go first, then content-type, ZK-Zxid and content-length, in the
 * order the route and its hooks add them.
 */
export function sendAnswer(
  node: ZkNode,
  rec: FastPathRecorder,
  req: IncomingMessage,
  res: ServerResponse,
  t0: number,
  op: string,
  status: number,
  headers: Record<string, string | number>,
  body: Buffer,
): void {
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['zk-zxid'] = String(node.responseZxid());
  headers['content-length'] = body.length;
  // A request taken just before shutdown began is answered; its keep-alive connection must not hold the close up.
  if (rec.closing()) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
  const ms = performance.now() - t0;
  node.recordLatency(ms);
  rec.answered(req.socket, op, status, ms, undefined);
}
