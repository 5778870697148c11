// Who may read the sensitive admin endpoints: anyone while no super user is configured, else only the super user
// (HTTP Basic of the super digest's user and password, or the client certificate x509SuperUser names). Shared by
// every /v1/admin plugin. A snapshot has its own rule (snapshotAccess).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZkError } from '../server/errors.js';
import { requestAuth } from './context.js';
import { x509Identity } from '../server/tls.js';
import type { ZkNode } from '../server/node.js';
import { aclAllows } from '../server/tree/acl.js';
import { PERM_BITS } from '../storage/records.js';

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

/**
 * Who may take a snapshot. With a super user configured, only the super user, as for the other sensitive endpoints.
 * Without one, whoever holds ALL (cdrwa) on `/` under its identities (ip, Basic digest, certificate): ZooKeeper's
 * rule for its AdminServer snapshot (3.9.4+, after CVE-2025-58457). A snapshot holds every znode's data whatever its
 * ACL, so it is never simply open as the other admin endpoints are; with `/`'s default ACL (world:anyone:cdrwa)
 * anyone reaching the port still may, as in ZooKeeper: restrict `/`'s ACL or configure a super user.
 */
export function snapshotAccess(node: ZkNode): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req) => {
    if (node.cfg.superDigest || node.cfg.x509SuperUser) return requireSuper(req, node);
    const auth = requestAuth(req.headers, req.raw.socket, req.ip, node);
    const root = node.store.getNode('/');
    // Bit by bit: one entry granting any one of them passes aclAllows(PERM_ALL), the fault behind CVE-2025-58457.
    if (root && Object.values(PERM_BITS).every((bit) => aclAllows(root.acl, bit, auth))) return;
    const why = "a snapshot needs ALL permission (cdrwa) on / when no super user is configured, and this request's identities";
    if (req.headers.authorization === undefined && x509Identity(req.raw.socket) === undefined) throw new ZkError('AuthFailed', `${why} (its address only) do not have it: authenticate (Authorization: Basic, or a client certificate)`);
    throw new ZkError('NoAuth', `${why} do not have it`);
  };
}
