// The hottest request, getData as a plain `GET /v1/znodes/<path>`, answered before fastify's routing, hooks and
// response-schema dispatch (whose union of three answer shapes validates every answer with ajv to pick one). That
// per-request machinery cost more than the read itself (bench/RESULTS.md). Only the plain form takes this path: any
// query string, body, or header that changes the answer (sessions, auth, If-Match, a binary Accept, a ZK-Min-Zxid
// this node has not reached) and every error goes to the fastify route, which owns all of those. The answer is
// byte for byte the one the route gives (test/standalone/fast-read.test.ts compares them) and is counted in the
// same metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathFromUrl } from './tree/paths.js';
import { PREFIX, plainRequest, sendAnswer, type FastPathRecorder } from './fast-path.js';
import { encodeData } from '../routes/context.js';
import type { ZkNode } from './node.js';
import type { CachedRead } from '../storage/read-cache.js';
import { PERM_BITS, type Acl } from '../storage/records.js';

/** Headers whose presence gives a GET a meaning this path does not implement. */
const ROUTE_HEADERS = ['zk-session', 'zk-session-epoch', 'authorization', 'if-match', 'content-length', 'transfer-encoding'];

/** True when it answered the request; false leaves the request untouched for fastify. */
export function fastGetData(node: ZkNode, rec: FastPathRecorder, req: IncomingMessage, res: ServerResponse): boolean {
  const t0 = performance.now();
  const remote = plainRequest(node, req, 'GET', ROUTE_HEADERS);
  if (remote === undefined) return false;
  // A cached answer would skip the node's refusal (an install, a member long without a leader): the route gives it.
  if (node.readRefusal() !== undefined) return false;
  const accept = req.headers.accept;
  if (accept !== undefined && accept.includes('application/octet-stream')) return false;
  const answer = cachedAnswer(node, (req.url as string).slice(PREFIX.length - 1), remote);
  if (answer === undefined) return false;
  sendAnswer(node, rec, req, res, t0, 'getData', 200, { etag: answer.etag }, answer.body);
  return true;
}

/**
 * The answer for the URL tail, from the store's read cache or made (and cached) from the record. Only answers
 * anyone may read are cached, so a hit needs no ACL check; and a hit needs no path check either, as only valid
 * paths are ever cached (without a '%', the tail is the path itself).
 */
function cachedAnswer(node: ZkNode, tail: string, remote: string): CachedRead | undefined {
  const cache = node.store.readCache;
  if (!tail.includes('%')) {
    const hit = cache.get(tail);
    if (hit) return hit;
  }
  try {
    const path = pathFromUrl(tail);
    const hit = cache.get(path);
    if (hit) return hit;
    const { data, stat, acl } = node.getData(path, { auth: [{ scheme: 'ip', id: remote }], session: '' });
    // The route's DataResponse, keys in its schema's order (statOf builds the stat in the Stat schema's).
    const body = Buffer.from(JSON.stringify({ path, ...encodeData(data, false), stat }));
    const answer = { body, etag: `"${stat.version}"` };
    if (worldReadable(acl)) cache.set(path, answer, body.length + path.length * 2);
    return answer;
  } catch {
    return undefined; // errors (no node, no permission, a bad path) are the route's to answer
  }
}

function worldReadable(acl: readonly Acl[]): boolean {
  return acl.some((a) => a.scheme === 'world' && a.id === 'anyone' && (a.perms & PERM_BITS.r) !== 0);
}
