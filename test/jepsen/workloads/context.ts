// What every workload client gets: the history, the cluster's node URLs, its random stream and the stop flag.
import type { History } from '../history.js';
import type { Random } from '../random.js';

export interface WorkloadContext {
  history: History;
  /** Node id → base URL. */
  urls: Map<number, string>;
  rand: Random;
  stopped: () => boolean;
  /** Client-side timeout of one request; past it the outcome is unknown. */
  opTimeoutMs: number;
  /** Pause between a client's operations. */
  thinkMs: number;
}

export function pickNode(ctx: WorkloadContext): [number, string] {
  const id = ctx.rand.pick([...ctx.urls.keys()]);
  return [id, ctx.urls.get(id) as string];
}

/** `/jepsen/...` as a /v1/znodes URL path. */
export function znode(path: string): string {
  return `/v1/znodes${path}`;
}
