// A node's children as an answer lists them: at most jute.maxbuffer bytes of names, as ZooKeeper's client takes no
// answer larger than that (its jute.maxbuffer) and fails the call. A node may have any number of children; listing a
// million at once took 1.3 s of the event loop and 300 MB of memory here. So a listing that does not fit is refused,
// and a page of one (`limit`, `after`) lists any node in as many answers as it takes. A session's ephemerals are
// listed within the same bound, cut short past it.
import { ZkError } from './errors.js';

/** Names read from the store at a time while a listing is measured. */
const CHUNK = 4096;

/** The page a client asks for: at most `limit` names, those after `after` (the last name of the previous page). */
export interface ChildrenPage {
  limit: number;
  after?: string;
}

/** The most names a page may ask for. */
export const MAX_PAGE = 10000;

/** ZooKeeper's size of a name in an answer: its UTF-8 bytes after a 4-byte length. */
export function nameBytes(name: string): number {
  return 4 + Buffer.byteLength(name, 'utf8');
}

/**
 * Names from `read(limit, after)` (a store's, in order), after `after`, while they fit: at most `max` of them and
 * `budget` bytes (nameBytes each; one at least when `oneAtLeast`). Reads no further than the answer needs.
 */
export function takeNames(
  read: (limit: number, after?: string) => string[],
  budget: number,
  o: { max?: number; after?: string; oneAtLeast?: boolean } = {},
): { names: string[]; more: boolean } {
  const max = o.max ?? Infinity;
  const names: string[] = [];
  let bytes = 0;
  let after = o.after;
  for (;;) {
    const chunk = read(CHUNK, after);
    for (const name of chunk) {
      const size = nameBytes(name);
      if (names.length >= max || (bytes + size > budget && !(o.oneAtLeast && names.length === 0))) return { names, more: true };
      names.push(name);
      bytes += size;
    }
    if (chunk.length < CHUNK) return { names, more: false };
    after = chunk[chunk.length - 1];
  }
}

/**
 * The children of `path` (sorted by UTF-8 bytes) within `budget` bytes. Without `page`, all of them, or BadArguments
 * when they do not fit; with it, the page's names, as many as fit (one at least), and whether more follow.
 */
export function listChildren(
  path: string,
  read: (limit: number, after?: string) => string[],
  budget: number,
  page?: ChildrenPage,
): { children: string[]; more: boolean } {
  const r = takeNames(read, budget, page ? { max: page.limit, after: page.after, oneAtLeast: true } : {});
  if (r.more && !page) {
    throw new ZkError(
      'BadArguments',
      `the children of ${path} take more than jute.maxbuffer (${budget} bytes) to list at once, and ZooKeeper's client would refuse such an answer; list them in pages: ?children&limit=N&after=<the last name of the previous page>`,
      { path },
    );
  }
  return { children: r.names, more: r.more };
}
