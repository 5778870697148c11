// ZooKeeper-style errors written straight to a socket, where no HTTP response object exists: a refused WebSocket
// upgrade (routes/watch.ts) and a request Node's HTTP parser cannot read at all (a malformed request line or
// header, a body without framing, headers over the size limit, a request not received in time). For the latter
// fastify's default wrote `{"error":"Bad Request","message":"Client Error","statusCode":400}`, the one answer in
// the API that was not a ZooKeeper-style error (API.md §6).
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { whenIdle } from './request-order.js';
import { ZkError } from './errors.js';
import type { ZkNode } from './node.js';
import { CONNECTION_WARN_EVERY_MS, onceEvery } from './once-every.js';

/** A whole HTTP/1.1 answer carrying `err`, with the headers every answer has and `extra`, that closes its connection. */
export function rawErrorResponse(node: ZkNode, err: ZkError, extra: string[] = []): string {
  const body = JSON.stringify(err.toBody());
  const status = err.status;
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `ZK-Zxid: ${node.appliedZxid}`,
    'Connection: close',
    ...(err.retryAfter === undefined ? [] : [`Retry-After: ${err.retryAfter}`]),
    ...extra,
  ];
  return head.join('\r\n') + '\r\n\r\n' + body;
}

/**
 * Node's parser error codes that say more than "not valid HTTP". The status stays 400, MarshallingError's in API.md
 * §6's table (not HTTP's 431 or 408): clients map statuses to ZooKeeper's errors by that table.
 */
const MESSAGE_OF: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'request headers are larger than the server accepts',
  ERR_HTTP_REQUEST_TIMEOUT: 'the request was not received in time',
};

/** fastify's clientErrorHandler: the answer is MarshallingError, and the connection, unreadable from here, is closed. */
export function clientErrorHandler(node: ZkNode): (err: Error & { code?: string }, socket: Duplex) => void {
  const warnPaused = onceEvery(CONNECTION_WARN_EVERY_MS);
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    // Not the client's error: Node's HTTPS server received bytes while its own back-pressure had its parser paused,
    // which a client pipelining over TLS meets when answers queue up. Answers may be on their way on this connection,
    // so no answer can be framed after them; the connection is closed, and the operator told why.
    if (err.code === 'HPE_PAUSED') {
      socket.destroy();
      const remote = (socket as Duplex & { remoteAddress?: string }).remoteAddress;
      warnPaused(() => node.log.warn({ remote }, `closed a TLS connection from ${remote} that pipelines requests (sends them without waiting for answers): Node's HTTPS server cannot take its bytes while it holds its answers back (HPE_PAUSED); that client should not pipeline over TLS`));
      return;
    }
    const message = MESSAGE_OF[err.code ?? ''] ?? `the request is not valid HTTP (${err.code ?? 'parse error'})`;
    // After the answers to the requests read before it on this connection (a pipelining client), or the client would
    // take this answer for theirs.
    whenIdle(socket as Socket, () => {
      if (socket.writable) socket.write(rawErrorResponse(node, new ZkError('MarshallingError', message)));
      socket.destroy();
    });
  };
}

/**
 * Node's 'connect' listener: a CONNECT request (a proxy tunnel) gets a 404 naming it, as any method without a route
 * does. With no listener Node closes the connection without a word, the one request the API left unanswered.
 */
export function answerConnect(node: ZkNode): (req: { url?: string }, socket: Duplex) => void {
  return (req, socket) => {
    const target = (req.url ?? '').slice(0, 256);
    socket.on('error', () => socket.destroy());
    socket.end(rawErrorResponse(node, new ZkError('Unimplemented', `no route CONNECT ${target}: zkgate is not a proxy`)));
  };
}
