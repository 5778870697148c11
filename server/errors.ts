// ZooKeeper's error vocabulary (KeeperException.Code) as a value type, and the one table that maps it to HTTP.
import type { FastifyReply } from 'fastify';

export const ZK_CODES = {
  Ok: 0,
  RuntimeInconsistency: -2,
  ConnectionLoss: -4,
  MarshallingError: -5,
  Unimplemented: -6,
  OperationTimeout: -7,
  BadArguments: -8,
  NoNode: -101,
  NoAuth: -102,
  BadVersion: -103,
  NoChildrenForEphemerals: -108,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  InvalidACL: -114,
  AuthFailed: -115,
} as const;

export type ZkErrorName = Exclude<keyof typeof ZK_CODES, 'Ok'>;

const HTTP_STATUS: Record<ZkErrorName, number> = {
  RuntimeInconsistency: 500,
  ConnectionLoss: 503,
  MarshallingError: 400,
  Unimplemented: 404,
  OperationTimeout: 503,
  BadArguments: 400,
  NoNode: 404,
  NoAuth: 403,
  BadVersion: 412,
  NoChildrenForEphemerals: 400,
  NodeExists: 409,
  NotEmpty: 409,
  SessionExpired: 410,
  InvalidACL: 400,
  AuthFailed: 401,
};

const DEFAULT_MESSAGE: Record<ZkErrorName, string> = {
  RuntimeInconsistency: 'operation not attempted because an earlier operation failed',
  ConnectionLoss: 'no quorum or leader right now; retry',
  MarshallingError: 'request could not be decoded',
  Unimplemented: 'not implemented',
  OperationTimeout: 'operation timed out',
  BadArguments: 'bad arguments',
  NoNode: 'node does not exist',
  NoAuth: 'not authorized',
  BadVersion: 'version does not match',
  NoChildrenForEphemerals: 'ephemeral nodes may not have children',
  NodeExists: 'node already exists',
  NotEmpty: 'node has children',
  SessionExpired: 'session expired, closed or unknown',
  InvalidACL: 'invalid ACL',
  AuthFailed: 'authentication failed',
};

export interface ZkErrorBody {
  error: ZkErrorName;
  code: number;
  message: string;
  path?: string;
  applied?: boolean;
  /** On a write refused because a later request of its session carried a higher ZK-Session-Epoch: that epoch. */
  sessionEpoch?: number;
}

/** An error a client can cause: carried as a value, mapped to HTTP in one place (errorBody/httpStatusOf). */
export class ZkError extends Error {
  readonly zkName: ZkErrorName;
  readonly code: number;
  readonly path?: string;
  /** Overrides the HTTP status the name maps to (413 for oversized bodies, 405 for wrong methods). */
  readonly httpStatus?: number;
  /** For 503s: false when the node knows the write was never proposed, so a retry is safe. */
  readonly applied?: boolean;
  readonly sessionEpoch?: number;

  constructor(name: ZkErrorName, message?: string, opts: { path?: string; httpStatus?: number; applied?: boolean; sessionEpoch?: number } = {}) {
    super(message ?? DEFAULT_MESSAGE[name]);
    this.zkName = name;
    this.code = ZK_CODES[name];
    this.path = opts.path;
    this.httpStatus = opts.httpStatus;
    this.applied = opts.applied;
    this.sessionEpoch = opts.sessionEpoch;
  }

  get status(): number {
    return this.httpStatus ?? HTTP_STATUS[this.zkName];
  }

  /** The `Retry-After` its answer carries: a 503 (nothing was done, or it may not have been) says when to try again. */
  get retryAfter(): string | undefined {
    return this.status === 503 ? '1' : undefined;
  }

  toBody(): ZkErrorBody {
    const body: ZkErrorBody = { error: this.zkName, code: this.code, message: this.message };
    if (this.path !== undefined) body.path = this.path;
    if (this.applied !== undefined) body.applied = this.applied;
    if (this.sessionEpoch !== undefined) body.sessionEpoch = this.sessionEpoch;
    return body;
  }
}

/** The answer to a failure that is not a ZooKeeper error: nothing about it is told to the client. */
export const SYSTEM_ERROR_BODY = { error: 'SystemError', code: -1, message: 'internal error' } as const;

export function zkError(name: ZkErrorName, path?: string, message?: string): ZkError {
  return new ZkError(name, message, { path });
}

export function isZkError(e: unknown): e is ZkError {
  return e instanceof ZkError;
}

/** A fastify answer carrying `err`: its HTTP status and the ZooKeeper-style body (API.md §6). */
export function errorReply(reply: FastifyReply, err: ZkError): FastifyReply {
  return reply.code(err.status).type('application/json').send(err.toBody());
}
