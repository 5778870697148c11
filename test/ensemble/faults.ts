// Shared pieces of the ensemble fault tests: writers that record acknowledged writes, and convergence.
import type { Ensemble } from '../helpers/ensemble.js';
import { children, req, retry } from './client.js';

export /** Writers spread over the given nodes; records every create acknowledged with 201. */
function writers(ens: Ensemble, alive: () => number[], prefix: string, count = 4) {
  const acked = new Set<string>();
  let stop = false;
  let seq = 0;
  let firstOkAfter: number | undefined;
  let since = 0;
  const loops = Array.from({ length: count }, async (_, w) => {
    while (!stop) {
      const ids = alive();
      const n = ens.node(ids[(seq + w) % ids.length] as number);
      const name = `${prefix}-${w}-${seq++}`;
      try {
        const r = await req(`${n.url}/v1/znodes/acked/${name}`, 'POST', name);
        if (r.status === 201) {
          acked.add(name);
          if (since && firstOkAfter === undefined && Date.now() > since) firstOkAfter = Date.now();
        }
      } catch {
        /* connection refused or timeout: outcome unknown, not counted as acknowledged */
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  return {
    acked,
    markFault() {
      since = Date.now();
      firstOkAfter = undefined;
    },
    gapMs: () => (firstOkAfter !== undefined ? firstOkAfter - since : undefined),
    async stop() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

export async function converge(ens: Ensemble, path: string): Promise<string[][]> {
  const z = await retry(async () => req(`${ens.node(await ens.waitForLeader()).url}/v1/sync`, 'POST').catch(() => ({ status: 0, body: {} as Record<string, unknown>, headers: new Headers() })), (r) => r.status === 200, 20000);
  const zxid = String(z.body.zxid ?? '0');
  return Promise.all(ens.nodes.map((n) => retry(() => children(n.url, path, zxid), (c) => c.length > 0, 20000)));
}

