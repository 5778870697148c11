// A node's children as an answer lists them: at most jute.maxbuffer bytes of names, as ZooKeeper's client takes no
// answer larger than that (its jute.maxbuffer) and fails the call. A node may have any number of children; listing a
// million at once took 1.3 s of the event loop and 300 MB of memory here. So a listing that does not fit is refused,
// and a page of one (`limit`, `after`) lists any node in as many answers as it takes.
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
 * The children of `path` (sorted by UTF-8 bytes) within `budget` bytes (nameBytes each). Without `page`, all of them, or
 * BadArguments when they do not fit; with it, the page's names, as many as fit (one at least), and whether more
 * follow. `names(limit, after)` reads the store; reading stops once the answer is known, so the work is bounded too.
 */
export function listChildren(
  path: string,
  names: (limit: number, after?: string) => string[],
  budget: number,
  page?: ChildrenPage,
): { children: string[]; more: boolean } {
  const max = page ? page.limit : Infinity;
  const out: string[] = [];
  let bytes = 0;
  let after = page?.after;
  for (;;) {
    const chunk = names(CHUNK, after);
    for (const name of chunk) {
      const size = nameBytes(name);
      const full = out.length >= max || (bytes + size > budget && (page === undefined || out.length > 0));
      if (full) {
        if (page) return { children: out, more: true };
        throw new ZkError(
          'BadArguments',
          `the children of ${path} take more than jute.maxbuffer (${budget} bytes) to list at once, and ZooKeeper's client would refuse such an answer; list them in pages: ?children&limit=N&after=<the last name of the previous page>`,
          { path },
        );
      }
      out.push(name);
      bytes += size;
    }
    if (chunk.length < CHUNK) return { children: out, more: false };
    after = chunk[chunk.length - 1];
  }
}
