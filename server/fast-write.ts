// The hottest writes, setData as a plain `PUT /v1/znodes/<path>` and create as a plain `POST /v1/znodes/<path>`,
// answered before fastify's routing, hooks, body parser and reply pipeline, as server/fast-read.ts does for getData.
// Per durable write that machinery cost about as much CPU as the write itself (bench/RESULTS.md). Only the plain
// form takes this path: any query string (versions, create flags, ACLs), a session, credentials, If-Match, a chunked
// body, a body over jute.maxbuffer, a ZK-Min-Zxid this node has not reached or a path the route would refuse goes
// to the fastify route, which owns all of those. The write itself is the route's: the same node.write with the same
// request context. Its answer, success or ZooKeeper error, is the one the route gives (test/standalone/
// fast-write.test.ts compares them) and is counted in the same metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ZkError } from './errors.js';
import { OPEN_ACL_UNSAFE } from './tree/acl.js';
import { pathFromUrl } from './tree/paths.js';
import type { ZkNode } from './node.js';
import type { MultiOp, Stat } from './tree/types.js';
import { PREFIX, minZxidReached, type FastPathRecorder } from './fast-read.js';
import { znodeUrl } from '../routes/context.js';

/** Headers whose presence gives a write a meaning this path does not implement. */
const ROUTE_HEADERS = ['zk-session', 'authorization', 'if-match', 'transfer-encoding'];

const JSON_TYPE = 'application/json; charset=utf-8';

/** True when it took the request (and will answer it); false leaves the request untouched for fastify. */
export function fastWrite(node: ZkNode, rec: FastPathRecorder, req: IncomingMessage, res: ServerResponse): boolean {
  const t0 = performance.now();
  const method = req.method;
  if (method !== 'PUT' && method !== 'POST') return false;
  const url = req.url;
  if (url === undefined || !url.startsWith(PREFIX) || url.includes('?')) return false;
  const h = req.headers;
  for (const k of ROUTE_HEADERS) if (h[k] !== undefined) return false;
  if (!minZxidReached(node, h['zk-min-zxid'])) return false;
  // No Content-Length (and no chunking) is an empty body; a bad one is Node's 400 before any handler runs.
  const length = Number(h['content-length'] ?? 0);
  if (!(length <= node.cfg.juteMaxBuffer)) return false;
  const remote = req.socket.remoteAddress;
  if (remote === undefined) return false;
  let path: string;
  try {
    path = pathFromUrl(url.slice(PREFIX.length - 1));
  } catch {
    return false; // the route answers a bad path
  }
  const create = method === 'POST';
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
    const op: MultiOp = create
      ? { type: 'create', path, data, acl: OPEN_ACL_UNSAFE, mode: 'PERSISTENT', ttlMs: 0, parents: false }
      : { type: 'set', path, data, version: -1 };
    node
      .write(op, { auth: [{ scheme: 'ip', id: remote }], session: '' })
      .then(({ value }) => {
        if (value.kind === 'create') answer(201, { path: value.path, stat: value.stat }, value.stat, znodeUrl(value.path));
        else if (value.kind === 'stat') answer(200, { path, stat: value.stat }, value.stat);
        else throw new Error(`${method} returned ${value.kind}`);
      })
      .catch(fail)
      // Only a failure to write the answer itself gets here (the connection is gone): nothing left to tell anyone.
      .catch((e: unknown) => node.log.warn({ err: e, url, method }, 'could not answer a write'));
  });
  return true;

  function answer(status: number, body: { path: string; stat: Stat }, stat: Stat, location?: string): void {
    const headers: Record<string, string | number> = { etag: `"${stat.version}"` };
    if (location !== undefined) headers.location = location;
    send(status, headers, JSON.stringify(body));
  }

  // What the app's error handler answers for the same error.
  function fail(e: unknown): void {
    if (e instanceof ZkError) {
      send(e.status, e.status === 503 ? { 'retry-after': '1' } : {}, JSON.stringify(e.toBody()));
      return;
    }
    node.log.error({ err: e, url, method }, 'unexpected error');
    send(500, {}, JSON.stringify({ error: 'SystemError', code: -1, message: 'internal error' }));
  }

  function send(status: number, headers: Record<string, string | number>, body: string): void {
    if (res.destroyed) return;
    const bytes = Buffer.from(body);
    headers['content-type'] = JSON_TYPE;
    headers['zk-zxid'] = String(node.appliedZxid);
    headers['content-length'] = bytes.length;
    res.writeHead(status, headers);
    res.end(bytes);
    const ms = performance.now() - t0;
    node.recordLatency(ms);
    rec.answered(req.socket, create ? 'create' : 'setData', status, ms, undefined);
  }
}
