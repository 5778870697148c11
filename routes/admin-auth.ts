// Who may read the sensitive admin endpoints: anyone while no super digest is configured, else only the
// super user (HTTP Basic of the super digest's user and password). Shared by every /v1/admin plugin.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZkError } from '../server/errors.js';
import { digestOf } from '../server/tree/acl.js';
import type { ZkNode } from '../server/node.js';

/** True when the request may see sensitive admin data. */
export function isSuper(req: FastifyRequest, node: ZkNode): boolean {
  const superDigest = node.cfg.superDigest;
  if (!superDigest) return true;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m || !m[1]) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) return false;
  return digestOf(decoded.slice(0, i), decoded.slice(i + 1)) === superDigest;
}

/**
 * Throws unless the request may see sensitive admin data: 401 AuthFailed without credentials,
 * 403 NoAuth with credentials that are not the super user's.
 */
export function requireSuper(req: FastifyRequest, node: ZkNode): void {
  if (isSuper(req, node)) return;
  if (req.headers.authorization === undefined) throw new ZkError('AuthFailed', 'this admin endpoint needs the super user (Authorization: Basic)');
  throw new ZkError('NoAuth', 'this admin endpoint is for the super user only');
}

/** The same rule as an onRequest hook, for route options: `{ onRequest: superOnly(node) }`. */
export function superOnly(node: ZkNode): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req) => requireSuper(req, node);
}
