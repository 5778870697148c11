// Who may read the sensitive admin endpoints: anyone while no super user is configured, else only the super user
// (HTTP Basic of the super digest's user and password, or the client certificate x509SuperUser names). Shared by
// every /v1/admin plugin.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZkError } from '../server/errors.js';
import { requestAuth } from './context.js';
import { x509Identity } from '../server/tls.js';
import type { ZkNode } from '../server/node.js';

/** True when the request may see sensitive admin data. */
export function isSuper(req: FastifyRequest, node: ZkNode): boolean {
  if (!node.cfg.superDigest && !node.cfg.x509SuperUser) return true;
  try {
    return requestAuth(req.headers, req.raw.socket, req.ip, node).some((a) => a.scheme === 'super');
  } catch {
    return false; // malformed credentials are nobody, here as for the ACL routes
  }
}

/**
 * Throws unless the request may see sensitive admin data: 401 AuthFailed without credentials,
 * 403 NoAuth with credentials that are not the super user's.
 */
export function requireSuper(req: FastifyRequest, node: ZkNode): void {
  if (isSuper(req, node)) return;
  // A verified client certificate is credentials too: its holder is another user (403), not an anonymous one (401).
  if (req.headers.authorization === undefined && x509Identity(req.raw.socket) === undefined) throw new ZkError('AuthFailed', 'this admin endpoint needs the super user (Authorization: Basic, or its client certificate)');
  throw new ZkError('NoAuth', 'this admin endpoint is for the super user only');
}

/** The same rule as an onRequest hook, for route options: `{ onRequest: superOnly(node) }`. */
export function superOnly(node: ZkNode): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req) => requireSuper(req, node);
}
