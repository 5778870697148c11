// /v1/recipes: ZooKeeper recipes for clients that only speak HTTP (etcd's lock/election API in spirit), built on the
// node's own operations and the watch hub's bounded blocking waits. Shared here: names to paths, raw bodies,
// per-name waiter bounds, hang-up detection and the capped ?wait.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ZkError } from '../server/errors.js';
import { OPEN_ACL_UNSAFE } from '../server/tree/acl.js';
import { validatePath } from '../server/tree/paths.js';
import type { RequestContext } from '../server/tree/prepare.js';
import type { CreateMode } from '../server/tree/types.js';
import type { ZkNode } from '../server/node.js';
import type { BlockingReads } from '../server/watches/blocking.js';
import { parseWait } from './znodes.js';
import { lockRoutes } from './recipes-locks.js';
import { queueRoutes } from './recipes-queue.js';

/** Where the endpoints keep their nodes; SDK recipes pointed at the same paths interoperate with them. */
export const RECIPE_ROOT = { locks: '/zkgate/locks', elections: '/zkgate/elections', queues: '/zkgate/queues' } as const;

export interface RecipeEnv {
  node: ZkNode;
  /** The watch hub's blocking waits: bounded by maxBlockingReads, fed by every commit. */
  blocking: BlockingReads;
  waiters: WaiterSlots;
  /** Aborted when the server starts closing: every recipe wait answers at once. */
  closing: AbortSignal;
  /**
   * Places being created, by line and session: a session's concurrent requests for one line share one place (bounded
   * by the waiter slots, which each request holds while its entry lives).
   */
  joining: Map<string, Promise<string>>;
}

/** Counts requests waiting per recipe name on this node, so one hot name cannot take every blocking slot. */
export class WaiterSlots {
  private readonly byName = new Map<string, number>();

  constructor(private readonly maxPerName: number) {}

  take(key: string): () => void {
    const n = this.byName.get(key) ?? 0;
    if (n >= this.maxPerName) {
      throw new ZkError('ConnectionLoss', `too many requests waiting on ${key} (recipeMaxWaitersPerName ${this.maxPerName}); retry`, { applied: false });
    }
    this.byName.set(key, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.byName.get(key) ?? 1) - 1;
      if (left > 0) this.byName.set(key, left);
      else this.byName.delete(key);
    };
  }
}

/** The recipe's directory for `name` (one valid path segment). */
export function recipeDir(root: string, name: string): string {
  const dir = `${root}/${name}`;
  if (name.includes('/')) throw new ZkError('BadArguments', `name must be one path segment, got ${JSON.stringify(name)}`);
  validatePath(dir);
  return dir;
}

/** ?wait in ms, capped; `fallbackMs` when absent. */
export function waitMsOf(node: ZkNode, raw: string | undefined, fallbackMs: number): number {
  return Math.min(raw === undefined ? fallbackMs : parseWait(raw), node.cfg.recipeMaxWaitMs);
}

export function requireSession(ctx: RequestContext): string {
  if (!ctx.session) throw new ZkError('BadArguments', 'this endpoint acts for a session: send ZK-Session (POST /v1/sessions creates one)');
  return ctx.session;
}

/** `signal` fires when the client hangs up (then `hungUp` is true) or the server closes; call `done` when finished. */
export function hangupSignal(req: FastifyRequest, closing: AbortSignal): { signal: AbortSignal; hungUp: () => boolean; done: () => void } {
  const ac = new AbortController();
  const socket = req.raw.socket;
  let hungUp = false;
  const onHangup = () => {
    hungUp = true;
    ac.abort();
  };
  const onClosing = () => ac.abort();
  // 'end' too: the client's FIN is read before Node closes the socket ('close' follows only once this side has
  // ended too), and a claim made in between would go to a client that is gone. A long-poll's client that shuts its
  // sending side is taken as gone.
  socket.once('end', onHangup);
  socket.once('close', onHangup);
  closing.addEventListener('abort', onClosing, { once: true });
  if (closing.aborted) ac.abort();
  return {
    signal: ac.signal,
    hungUp: () => hungUp,
    done: () => {
      socket.off('end', onHangup);
      socket.off('close', onHangup);
      closing.removeEventListener('abort', onClosing);
    },
  };
}

export function bodyBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  throw new ZkError('MarshallingError', 'request body must be raw bytes');
}

/** Creates `dir` (and missing ancestors) unless it exists. */
export async function ensureDir(node: ZkNode, dir: string, mode: CreateMode, ctx: RequestContext): Promise<void> {
  if (node.store.getNode(dir)) return;
  try {
    await node.write({ type: 'create', path: dir, data: new Uint8Array(0), acl: OPEN_ACL_UNSAFE, mode, ttlMs: 0, parents: true }, ctx);
  } catch (e) {
    if (!(e instanceof ZkError && e.zkName === 'NodeExists')) throw e;
  }
}

/** Creates a sequential child of `dir`, re-creating the directory if it went (a swept container) in between. */
export async function createInDir(node: ZkNode, dir: string, prefix: string, data: Uint8Array, mode: CreateMode, dirMode: CreateMode, ctx: RequestContext): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const { value } = await node.write({ type: 'create', path: `${dir}/${prefix}`, data, acl: OPEN_ACL_UNSAFE, mode, ttlMs: 0, parents: false }, ctx);
      if (value.kind !== 'create') throw new Error('create returned ' + value.kind);
      return value.path;
    } catch (e) {
      if (!(e instanceof ZkError && e.zkName === 'NoNode') || attempt >= 3) throw e;
      await ensureDir(node, dir, dirMode, ctx);
    }
  }
}

/** The 10-digit sequence a sequential create appended (-1 when none); nodes sort by it whatever their prefix. */
export function seqOf(name: string): number {
  const m = /(\d{10})$/.exec(name);
  return m ? Number(m[1]) : -1;
}

export function bySeq(names: string[], accept: (n: string) => boolean = () => true): string[] {
  return names.filter((n) => seqOf(n) >= 0 && accept(n)).sort((a, b) => seqOf(a) - seqOf(b));
}

export const recipeRoutes: FastifyPluginAsync<{ node: ZkNode; blocking: BlockingReads }> = async (app, { node, blocking }) => {
  // Campaign values and queue elements are raw bytes, whatever their Content-Type (as znode writes).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: node.cfg.juteMaxBuffer }, (_req, body, done) => done(null, body));
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());
  const env: RecipeEnv = { node, blocking, waiters: new WaiterSlots(node.cfg.recipeMaxWaitersPerName), closing: closing.signal, joining: new Map() };
  await app.register(lockRoutes, { env });
  await app.register(queueRoutes, { env });
};
