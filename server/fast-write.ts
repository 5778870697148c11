// The hottest writes, setData as a plain `PUT /v1/znodes/<path>` and create as a plain `POST /v1/znodes/<path>`,
// answered before fastify's routing, hooks, body parser and reply pipeline, as server/fast-read.ts does for getData.
// Per durable write that machinery cost about as much CPU as the write itself (bench/RESULTS.md). Only the plain
// form takes this path: any query string (versions, create flags, ACLs), a session, credentials, If-Match, a chunked
// body, a body over jute.maxbuffer, a ZK-Min-Zxid this node has not reached or a path the route would refuse goes
// to the fastify route, which owns all of those. The write itself is the route's: the same node.write with the same
// request context. Its answer, success or ZooKeeper error, is the one the route gives (test/standalone/
// fast-write.test.ts compares them) and is counted in the same metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SYSTEM_ERROR_BODY, ZkError } from './errors.js';
import { OPEN_ACL_UNSAFE } from './tree/acl.js';
import { pathFromUrl } from './tree/paths.js';
import type { ZkNode } from './node.js';
import type { MultiOp } from './tree/types.js';
import { PREFIX, plainRequest, sendAnswer, type FastPathRecorder } from './fast-path.js';
import { znodeUrl } from '../routes/context.js';

/** Headers whose presence gives a write a meaning this path does not implement. */
const ROUTE_HEADERS = ['zk-session', 'zk-session-epoch', 'authorization', 'if-match', 'transfer-encoding'];

/** True when it took the request (and will answer it); false leaves the request untouched for fastify. */
export function fastWrite(node: ZkNode, rec: FastPathRecorder, req: IncomingMessage, res: ServerResponse): boolean {
  const t0 = performance.now();
  const create = req.method === 'POST';
  const remote = plainRequest(node, req, create ? 'POST' : 'PUT', ROUTE_HEADERS);
  if (remote === undefined) return false;
  // No Content-Length (and no chunking) is an empty body; a bad one is Node's 400 before any handler runs.
  const length = Number(req.headers['content-length'] ?? 0);
  if (!(length <= node.cfg.juteMaxBuffer)) return false;
  const url = req.url as string;
  let path: string;
  try {
    path = pathFromUrl(url.slice(PREFIX.length - 1));
  } catch {
    return false; // the route answers a bad path
  }
  const op = create ? 'create' : 'setData';
  const chunks: Buffer[] = [];
  let received = 0;
  req.on('data', (c: Buffer) => {
    chunks.push(c);
    received += c.length;
  });
  // A request that fails or is cut off while its body arrives has no one to answer; nothing was proposed.
  req.on('error', () => {});
  req.on('end', () => {
    // A copy: the chunks are views of the socket's read buffer (fastify's body parser copies too).
    const data = Buffer.concat(chunks, received);
    const write: MultiOp = create
      ? { type: 'create', path, data, acl: OPEN_ACL_UNSAFE, mode: 'PERSISTENT', ttlMs: 0, parents: false }
      : { type: 'set', path, data, version: -1 };
    node
      .write(write, { auth: [{ scheme: 'ip', id: remote }], session: '' })
      .then(({ value }) => {
        if (value.kind !== 'create' && value.kind !== 'stat') throw new Error(`${req.method} returned ${value.kind}`);
        const headers: Record<string, string> = { etag: `"${value.stat.version}"` };
        if (value.kind === 'create') headers.location = znodeUrl(value.path);
        send(create ? 201 : 200, headers, { path: value.kind === 'create' ? value.path : path, stat: value.stat });
      })
      // What the app's error handler answers for the same error.
      .catch((e: unknown) => {
        if (e instanceof ZkError) return send(e.status, e.retryAfter === undefined ? {} : { 'retry-after': e.retryAfter }, e.toBody());
        node.log.error({ err: e, url, method: req.method }, 'unexpected error');
        send(500, {}, SYSTEM_ERROR_BODY);
      })
      // Only a failure to write the answer itself gets here (the connection is gone): nothing left to tell anyone.
      .catch((e: unknown) => node.log.warn({ err: e, url, method: req.method }, 'could not answer a write'));
  });
  return true;

  function send(status: number, headers: Record<string, string>, body: object): void {
    if (!res.destroyed) sendAnswer(node, rec, req, res, t0, op, status, headers, Buffer.from(JSON.stringify(body)));
  }
}
