// prepare: a client request → a deterministic transaction. Validates everything that does not depend on the
// tree (paths, modes, TTLs, ACL syntax, sizes) and fixes what replicas must not compute themselves: time,
// the caller's identities and session. State-dependent checks happen in apply (see apply.ts).
import { ZkError } from '../errors.js';
import { fixupAcl } from './acl.js';
import { multiFailureResults } from './apply.js';
import { validatePath } from './paths.js';
import {
  CREATE_MODES,
  modeIsSequential,
  modeKind,
  type Acl,
  type AuthId,
  type CreateMode,
  type CreateOp,
  type MultiErrorResult,
  type MultiInvalid,
  type MultiOp,
  type Txn,
  type TxnContext,
} from './types.js';

/** EphemeralType.MAX_TTL: the TTL must fit in 40 bits. */
export const MAX_TTL_MS = 0xffffffffff;

export interface RequestContext {
  auth: AuthId[];
  session: string;
  /** ZK-Session-Epoch: where the client sends its session's requests from (server/session-epochs.ts). */
  epoch?: number;
}

/** Any int, as ZooKeeper's versions: -1 is any version, every other one that does not match is BadVersion in apply. */
export function isVersion(n: number): boolean {
  return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647;
}

export function txnContext(req: RequestContext, now: number): TxnContext {
  // Only when given, so that a write without one keeps the log's compact layout (storage/txn-codec.ts).
  if (req.epoch === undefined || !req.session) return { time: now, auth: req.auth, session: req.session };
  return { time: now, auth: req.auth, session: req.session, sessionEpoch: req.epoch };
}

/** Flags as the REST API spells them, turned into ZooKeeper's CreateMode. */
export function createModeFromFlags(f: { sequential: boolean; ephemeral: boolean; container: boolean; ttlMs?: number }): CreateMode {
  if (f.container) {
    if (f.sequential || f.ephemeral || f.ttlMs !== undefined) throw new ZkError('BadArguments', 'container nodes cannot be sequential, ephemeral or have a ttl');
    return 'CONTAINER';
  }
  if (f.ttlMs !== undefined) {
    if (f.ephemeral) throw new ZkError('BadArguments', 'ttl applies only to persistent nodes');
    return f.sequential ? 'PERSISTENT_SEQUENTIAL_WITH_TTL' : 'PERSISTENT_WITH_TTL';
  }
  if (f.ephemeral) return f.sequential ? 'EPHEMERAL_SEQUENTIAL' : 'EPHEMERAL';
  return f.sequential ? 'PERSISTENT_SEQUENTIAL' : 'PERSISTENT';
}

export function validateCreate(op: CreateOp, req: RequestContext): CreateOp {
  if (!CREATE_MODES.includes(op.mode)) throw new ZkError('BadArguments', `unknown create mode ${JSON.stringify(op.mode)}`, { path: op.path });
  const isTtl = modeKind(op.mode) === 'ttl';
  if (isTtl && (!Number.isInteger(op.ttlMs) || op.ttlMs < 1 || op.ttlMs > MAX_TTL_MS)) {
    throw new ZkError('BadArguments', `ttl must be an integer in [1, ${MAX_TTL_MS}] ms`, { path: op.path });
  }
  if (!isTtl && op.ttlMs !== 0) throw new ZkError('BadArguments', `ttl is only valid with a TTL mode, not ${op.mode}`, { path: op.path });
  if (modeKind(op.mode) === 'ephemeral' && !req.session) {
    throw new ZkError('BadArguments', 'ephemeral nodes need a session (ZK-Session header)', { path: op.path });
  }
  validatePath(op.path, modeIsSequential(op.mode));
  // A sequential create of / names a child of the root (/0000000000), as in ZooKeeper; a plain one is the root itself.
  if (op.path === '/' && !modeIsSequential(op.mode)) throw new ZkError('NodeExists', undefined, { path: '/' });
  const acl: Acl[] = fixupAcl(op.acl, req.auth);
  return { ...op, acl };
}

function validateOp(op: MultiOp, req: RequestContext): MultiOp {
  switch (op.type) {
    case 'create':
      return validateCreate(op, req);
    case 'set':
    case 'delete':
    case 'check':
      validatePath(op.path);
      if (!isVersion(op.version)) throw new ZkError('BadArguments', 'version must be a 32-bit integer', { path: op.path });
      return op;
  }
}

export function prepareOp(op: MultiOp, req: RequestContext, now: number): Txn {
  return { ...validateOp(op, req), ...txnContext(req, now) } as Txn;
}

export function prepareSetAcl(path: string, acl: Acl[], aversion: number, req: RequestContext, now: number): Txn {
  validatePath(path);
  return { type: 'setAcl', path, acl: fixupAcl(acl, req.auth), aversion, ...txnContext(req, now) };
}

/**
 * Where the invalid op stood, a check that no version can pass (versions are never negative): a member of an older
 * version, which knows nothing of `invalid`, fails the multi there too during a rolling upgrade instead of applying the
 * ops before it, so the members' trees cannot part. Apply of this version stops before it and reports `invalid`.
 */
export const INVALID_OP_STANDIN: MultiOp = { type: 'check', path: '/', version: -2 };

/**
 * `ops` holds a ZkError in place of an op the caller could not even read (bad ACL text, bad base64). An invalid
 * first op fails the multi here, without the log. An invalid later op goes into the transaction after the valid
 * ops before it, for apply to check those against the state first, as ZooKeeper's in-order prepare does.
 */
export function prepareMulti(
  ops: (MultiOp | ZkError)[],
  req: RequestContext,
  now: number,
): { txn: Txn } | { error: ZkError; results: MultiErrorResult[] } {
  const out: MultiOp[] = [];
  for (let i = 0; i < ops.length; i++) {
    try {
      const op = ops[i] as MultiOp | ZkError;
      if (op instanceof ZkError) throw op;
      out.push(validateOp(op, req));
    } catch (e) {
      if (!(e instanceof ZkError)) throw e;
      if (i === 0) return { error: e, results: multiFailureResults(ops.length, 0, e) };
      const invalid: MultiInvalid = { count: ops.length, error: e.zkName, message: e.message, ...(e.path === undefined ? {} : { path: e.path }) };
      return { txn: { type: 'multi', ops: [...out, INVALID_OP_STANDIN], invalid, ...txnContext(req, now) } };
    }
  }
  return { txn: { type: 'multi', ops: out, ...txnContext(req, now) } };
}
