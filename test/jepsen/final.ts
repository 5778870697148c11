// The end of a run: wait until every node has applied the same zxid, then read the final state — the
// whole tree of every node (they must be identical), the queue, ephemerals and sessions.
import type { Cluster } from './cluster.js';
import { call, sleep } from './http.js';

const CONVERGE_TIMEOUT_MS = 60000;
/** Bound on znodes a tree dump visits. */
const MAX_DUMP_NODES = 100000;

/** Syncs through the leader and waits until every node has applied that zxid; returns it. */
export async function converge(cluster: Cluster, timeoutMs = CONVERGE_TIMEOUT_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const leader = await cluster.leader();
    if (leader !== undefined) {
      const s = await call(`${cluster.node(leader).url}/v1/sync`, 'POST', { timeoutMs: 5000 });
      const z = Number(s.body.zxid);
      if (s.kind === 'ok' && Number.isSafeInteger(z)) {
        const reached = await Promise.all(cluster.nodes.map((n) => call(`${n.url}/v1/znodes/?stat`, 'GET', { headers: { 'ZK-Min-Zxid': String(z) }, timeoutMs: 6000 })));
        if (reached.every((r) => r.kind === 'ok')) return z;
      }
    }
    await sleep(200);
  }
  throw new Error(`the nodes did not converge within ${timeoutMs} ms after the faults were healed`);
}

export interface DumpedNode {
  data: string;
  stat: Record<string, unknown>;
  children: string[];
}

/** Every znode (except /zookeeper) as this node has it at or after `minZxid`. */
export async function dumpTree(url: string, minZxid: number): Promise<Map<string, DumpedNode>> {
  const out = new Map<string, DumpedNode>();
  const todo = ['/'];
  const headers = { 'ZK-Min-Zxid': String(minZxid) };
  while (todo.length > 0 && out.size < MAX_DUMP_NODES) {
    const path = todo.pop() as string;
    const enc = path.split('/').map(encodeURIComponent).join('/');
    const d = await call(`${url}/v1/znodes${enc}?encoding=base64`, 'GET', { headers, timeoutMs: 10000 });
    const c = await call(`${url}/v1/znodes${enc}?children`, 'GET', { headers, timeoutMs: 10000 });
    if (d.kind !== 'ok' || c.kind !== 'ok') throw new Error(`dumping ${url}: ${path} answered ${d.error ?? c.error ?? d.status}`);
    const children = (c.body.children as string[]) ?? [];
    out.set(path, { data: String(d.body.data), stat: d.body.stat as Record<string, unknown>, children });
    for (const ch of children) {
      const p = path === '/' ? `/${ch}` : `${path}/${ch}`;
      if (p !== '/zookeeper') todo.push(p);
    }
  }
  return out;
}

/** Differences between two dumps, at most `limit` of them. */
export function diffTrees(a: Map<string, DumpedNode>, b: Map<string, DumpedNode>, limit = 20): string[] {
  const out: string[] = [];
  for (const [p, x] of a) {
    const y = b.get(p);
    if (!y) out.push(`${p} missing`);
    else if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${p} differs: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    if (out.length >= limit) return out;
  }
  for (const p of b.keys()) if (!a.has(p) && out.length < limit) out.push(`${p} extra`);
  return out;
}
