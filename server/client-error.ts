// What a client gets when Node's HTTP parser cannot read its request at all (a malformed request line or header,
// a body without framing, headers over the size limit, a request not received in time): fastify's default wrote
// `{"error":"Bad Request","message":"Client Error","statusCode":400}`, the one answer in the API that was not a
// ZooKeeper-style error (API.md §6). The connection cannot be read any further, so it is closed after the answer.
import type { Duplex } from 'node:stream';
import { ZkError } from './errors.js';

/** Node's parser error codes with an HTTP status of their own; every other parse failure is 400. */
const STATUS_OF: Record<string, [status: number, reason: string, message: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'request headers are larger than the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request was not received in time'],
};

export function clientErrorHandler(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] = STATUS_OF[err.code ?? ''] ?? [400, 'Bad Request', `the request is not valid HTTP (${err.code ?? 'parse error'})`];
  const body = JSON.stringify(new ZkError('MarshallingError', message).toBody());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
