// Every child of a znode, as the CLI's commands need them (ls, ls -R, tree, deleteall): read a page at a time, since
// the server answers an unpaged listing only up to jute.maxbuffer bytes of names. A node whose children fit in one
// page is read in one request, at one zxid; a larger one over several, each at its own. A server of a release before
// pages refuses `limit` as an unknown parameter, and is asked for the whole listing instead, as before.
import type { Client } from './http.js';
import { znodeUrl } from './http.js';
import { ZkFailure } from './errors.js';
import type { Stat } from './output.js';

/** Names a page asks for: the server's most. */
const PAGE = 10000;

export interface ChildrenBody {
  path: string;
  children: string[];
  stat: Stat;
}

/** The node's children and stat (the first page's), and the JSON body an unpaged listing would have answered. */
export async function listAllChildren(c: Client, path: string): Promise<{ body: ChildrenBody; raw: string }> {
  const url = znodeUrl('/v1/znodes', path);
  let after: string | undefined;
  let first: ChildrenBody | undefined;
  const children: string[] = [];
  for (;;) {
    const query: [string, string][] = [['children', ''], ['limit', String(PAGE)]];
    if (after !== undefined) query.push(['after', after]);
    let r;
    try {
      r = await c.call<ChildrenBody & { more?: boolean }>('GET', url, { query });
    } catch (e) {
      if (first || !(e instanceof ZkFailure) || e.body.message !== 'unknown query parameter "limit"') throw e;
      const whole = await c.call<ChildrenBody>('GET', url, { query: [['children', '']] });
      return { body: whole.value, raw: whole.raw };
    }
    first ??= r.value;
    children.push(...r.value.children);
    if (!r.value.more || r.value.children.length === 0) break;
    after = r.value.children[r.value.children.length - 1];
  }
  const { path: listed, stat } = first as ChildrenBody;
  const body: ChildrenBody = { path: listed, children, stat };
  return { body, raw: JSON.stringify(body) };
}
