// The one error type the SDK throws: ZooKeeper's error name and code, the HTTP status, and whether a failed write
// is known not to have been applied (so retrying it is safe).
import { ZK_CODES, type ErrorBody, type ZkErrorName } from './types.js';

export class ZkClientError extends Error {
  readonly code: number;

  constructor(
    readonly zkName: ZkErrorName,
    message: string,
    readonly opts: { status?: number; path?: string; applied?: boolean; results?: unknown[] } = {},
  ) {
    super(`${zkName}: ${message}`);
    this.name = 'ZkClientError';
    this.code = ZK_CODES[zkName];
  }

  get status(): number | undefined {
    return this.opts.status;
  }

  get path(): string | undefined {
    return this.opts.path;
  }

  /** false: the server knows the write was never proposed; undefined: it may or may not have been applied. */
  get applied(): boolean | undefined {
    return this.opts.applied;
  }

  static fromBody(status: number, body: Partial<ErrorBody>): ZkClientError {
    const name = body.error && body.error in ZK_CODES ? body.error : status >= 500 ? 'SystemError' : 'BadArguments';
    return new ZkClientError(name, body.message ?? `HTTP ${status}`, { status, path: body.path, applied: body.applied, results: body.results });
  }
}

/** True for `err` being a ZkClientError named `name`. */
export function isZkError(err: unknown, name?: ZkErrorName): err is ZkClientError {
  return err instanceof ZkClientError && (name === undefined || err.zkName === name);
}
