// ZooKeeper's path rules (PathUtils.validatePath) and the parent/name split every tree operation uses.
import { ZkError } from '../errors.js';

/** LMDB keys are parent + NUL + name; lmdb-js caps keys at 1978 bytes, so paths are bounded below that. */
export const MAX_PATH_BYTES = 1900;

export const RESERVED_PATHS = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

/** How much of a refused path its error repeats: a URL may carry a path of many KB, and the error need not. */
export const SHOWN_PATH_CHARS = 256;

function badPath(path: string, why: string): ZkError {
  const shown = path.length > SHOWN_PATH_CHARS ? `${path.slice(0, SHOWN_PATH_CHARS)}… (${path.length} characters)` : path;
  return new ZkError('BadArguments', `invalid path ${JSON.stringify(shown)}: ${why}`, { path: shown });
}

function isBannedCodeUnit(c: number): boolean {
  return (
    c === 0 ||
    (c >= 0x01 && c <= 0x1f) ||
    (c >= 0x7f && c <= 0x9f) ||
    (c >= 0xd800 && c <= 0xf8ff) ||
    (c >= 0xfff0 && c <= 0xffff)
  );
}

/**
 * Throws BadArguments unless `path` is a legal znode path. A sequential create validates
 * `path + "1"` as ZooKeeper does, so "/queue/" is legal there and becomes "/queue/0000000007".
 */
export function validatePath(path: string, sequential = false): void {
  const p = sequential ? path + '1' : path;
  if (p.length === 0) throw badPath(path, 'empty');
  if (p[0] !== '/') throw badPath(path, 'must start with /');
  if (p.length === 1) return;
  if (p.endsWith('/')) throw badPath(path, 'must not end with /');
  if (Buffer.byteLength(p, 'utf8') > MAX_PATH_BYTES) throw badPath(path, `longer than ${MAX_PATH_BYTES} bytes`);
  let segStart = 1;
  for (let i = 1; i <= p.length; i++) {
    const c = i < p.length ? p.charCodeAt(i) : 0x2f;
    if (c === 0x2f) {
      const seg = p.slice(segStart, i);
      if (seg.length === 0) throw badPath(path, 'empty node name');
      if (seg === '.' || seg === '..') throw badPath(path, 'relative paths are not allowed');
      segStart = i + 1;
    } else if (isBannedCodeUnit(c)) {
      throw badPath(path, `invalid character \\u${c.toString(16).padStart(4, '0')}`);
    }
  }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}

/** True when `path` is `root` or lies below it. */
export function isWithin(path: string, root: string): boolean {
  if (root === '/') return true;
  return path === root || path.startsWith(root + '/');
}

/** ZooKeeper's sequential suffix: the parent's count of children ever created, 10 digits, as a signed 32-bit int. */
export function sequenceSuffix(counter: number): string {
  const n = counter | 0;
  return n < 0 ? String(n) : String(n).padStart(10, '0');
}

/**
 * Turns the URL tail after /v1/znodes into a znode path: each segment percent-decoded. A `%2F` is a separator,
 * as a znode name cannot hold a '/': it is how Swagger UI (and any client that encodes a path parameter whole)
 * sends `app/config`, and a tail that starts with one is the whole path (`%2Fapp%2Fconfig`, `%2F` for the root).
 * A malformed escape is BadArguments; what the decoded path may be is validatePath's to say.
 */
export function pathFromUrl(tail: string): string {
  if (tail === '' || tail === '/') return '/';
  const raw = tail.startsWith('/') ? tail.slice(1) : tail;
  const segs = raw.split('/');
  const out: string[] = [];
  for (const s of segs) {
    try {
      out.push(decodeURIComponent(s));
    } catch {
      throw new ZkError('BadArguments', `invalid percent-encoding in path segment ${JSON.stringify(s)}`);
    }
  }
  const joined = out.join('/');
  if (/^%2f/i.test(raw)) return joined;
  return '/' + joined;
}
