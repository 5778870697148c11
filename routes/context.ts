// Turning HTTP into the node's terms: who is asking (auth, session, ip), flags, versions, data encodings.
import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZkError } from '../server/errors.js';
import { digestOf } from '../server/tree/acl.js';
import type { AuthId } from '../server/tree/types.js';
import { isVersion, type RequestContext } from '../server/tree/prepare.js';
import { sessionIdOf } from '../server/sessions/session-id.js';
import { x509Identity } from '../server/tls.js';
import type { ZkNode } from '../server/node.js';
import type { Stat } from '../server/tree/types.js';
import { MAX_SESSION_EPOCH } from '../server/session-epochs.js';

/**
 * Who a request (or WebSocket upgrade) proves to be: its address (ip), `Authorization: Basic` → digest:user (and
 * super when it matches the configured super digest), a verified client certificate → x509:<subject DN> (and super
 * when it is x509SuperUser).
 */
export function requestAuth(headers: IncomingHttpHeaders, socket: Socket, ip: string, node: ZkNode): AuthId[] {
  const auth: AuthId[] = [{ scheme: 'ip', id: ip }];
  const h = headers.authorization;
  if (h !== undefined) {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
    if (!m || !m[1]) throw new ZkError('AuthFailed', 'Authorization must be Basic base64(user:password)');
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) throw new ZkError('AuthFailed', 'Authorization Basic credentials must be user:password');
    const id = digestOf(decoded.slice(0, i), decoded.slice(i + 1));
    auth.push({ scheme: 'digest', id });
    if (node.cfg.superDigest && id === node.cfg.superDigest) auth.push({ scheme: 'super', id });
  }
  const cert = x509Identity(socket);
  if (cert) {
    auth.push(cert);
    if (node.cfg.x509SuperUser && cert.id === node.cfg.x509SuperUser) auth.push({ scheme: 'super', id: cert.id });
  }
  return auth;
}

export function requestContext(req: FastifyRequest, node: ZkNode): RequestContext {
  const auth = requestAuth(req.headers, req.raw.socket, req.ip, node);
  const session = requestSession(req, node);
  const epoch = sessionEpochOf(req.headers['zk-session-epoch']);
  return epoch === undefined || !session ? { auth, session } : { auth, session, epoch };
}

/** ZK-Session-Epoch: a non-negative integer (absent: no check). Anything else is 400, not a write let through unchecked. */
function sessionEpochOf(raw: string | string[] | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^\s*\d{1,16}\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new ZkError('BadArguments', `ZK-Session-Epoch must be an integer from 0 to ${MAX_SESSION_EPOCH}, got ${JSON.stringify(raw)}`);
  return n;
}

/** The request's ZK-Session, checked (410 for an ended one) and touched; '' for none. */
export function requestSession(req: FastifyRequest, node: ZkNode): string {
  const raw = req.headers['zk-session'];
  const session = typeof raw === 'string' ? sessionIdOf(raw) : '';
  if (session) {
    node.checkSession(session);
    node.sessions.touch(session);
  }
  return session;
}

/** `?flag`, `?flag=1`, `?flag=true` are on; absent, `false` or `0` are off. */
export function flag(v: string | undefined): boolean {
  return v !== undefined && v !== 'false' && v !== '0';
}

function parseVersion(raw: string, what: string): number {
  const s = raw.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  if (!/^-?\d+$/.test(s)) throw new ZkError('BadArguments', `${what} must be an integer version, got ${JSON.stringify(raw)}`);
  const n = Number(s);
  if (!isVersion(n)) throw new ZkError('BadArguments', `${what} ${s} is not a 32-bit version`);
  return n;
}

/** Expected version from If-Match or ?version (they must agree when both are given); -1 = any. */
export function expectedVersion(ifMatch: string | undefined, query: string | undefined): number {
  const a = ifMatch !== undefined && ifMatch.trim() !== '*' ? parseVersion(ifMatch, 'If-Match') : undefined;
  const b = query !== undefined ? parseVersion(query, 'version') : undefined;
  if (a !== undefined && b !== undefined && a !== b) throw new ZkError('BadArguments', `If-Match (${a}) and ?version (${b}) disagree`);
  return a ?? b ?? -1;
}

export function encodeData(data: Uint8Array, forceBase64: boolean): { data: string; encoding: 'utf8' | 'base64' } {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!forceBase64 && isUtf8(buf)) return { data: buf.toString('utf8'), encoding: 'utf8' };
  return { data: buf.toString('base64'), encoding: 'base64' };
}

export function decodeData(data: string | undefined, encoding: string | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (encoding === 'base64') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 === 1) throw new ZkError('BadArguments', 'data is not valid base64');
    return Buffer.from(data, 'base64');
  }
  return Buffer.from(data, 'utf8');
}

export function setStatHeaders(reply: FastifyReply, stat: Stat): void {
  reply.header('ETag', `"${stat.version}"`);
}

export function znodeUrl(path: string): string {
  return '/v1/znodes' + (path === '/' ? '/' : path.split('/').map(encodeURIComponent).join('/'));
}
