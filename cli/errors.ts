// What can go wrong in a CLI command, as values: a ZooKeeper error answer (exit 1), an unreachable server
// (exit 1), bad usage (exit 2). runAction prints them without stack traces.
export interface ZkErrorBody {
  error: string;
  code: number;
  message: string;
  path?: string;
  applied?: boolean;
}

export class ZkFailure extends Error {
  constructor(
    readonly body: ZkErrorBody,
    readonly status: number,
    readonly url: string,
  ) {
    super(`${body.error}: ${body.message}${body.path !== undefined && !body.message.includes(body.path) ? ` (${body.path})` : ''}`);
  }
}

export type UnreachableReason = 'not running' | 'timeout' | 'unresolvable' | 'reset' | 'unreachable' | 'error';

export class Unreachable extends Error {
  constructor(
    readonly url: string,
    readonly reason: UnreachableReason,
    detail: string,
    readonly others: Unreachable[] = [],
  ) {
    super(`cannot reach ${url}: ${detail}`);
  }

  static all(failures: Unreachable[]): Unreachable {
    const first = failures[0];
    if (!first) return new Unreachable('(no server)', 'error', 'no --url given');
    if (failures.length === 1) return first;
    const e = new Unreachable(first.url, first.reason, 'no server could be reached', failures);
    e.message = 'no server could be reached:\n' + failures.map((f) => `  ${f.message}`).join('\n');
    return e;
  }
}

export class UsageError extends Error {}

/** Any other failure with a message meant for the operator, and its exit code. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
