// Locks and leader elections over HTTP: a session's request joins the line with an ephemeral sequential node and
// long-polls until that node is the lowest, waiting only on its predecessor (no herd). A timed-out wait keeps the
// place (ask again); hanging up gives it away; the session's end frees it. "Held" is confirmed with a quorum.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ZkError } from '../server/errors.js';
import type { RequestContext } from '../server/tree/prepare.js';
import type { Stat } from '../server/tree/types.js';
import type { ZkNode } from '../server/node.js';
import { ErrorRef } from '../openapi/schemas.js';
import {
  CampaignWaiting,
  CampaignWon,
  LeaderInfo,
  LockHeld,
  LockHolder,
  LockWaiting,
  RecipeNameParams,
  RAW_CONSUMES,
  RawBody,
  RecipeWaitQuery,
  SessionHeaders,
} from '../openapi/recipe-schemas.js';
import { encodeData, requestContext } from './context.js';
import { RECIPE_ROOT, bodyBytes, bySeq, createInDir, hangupSignal, recipeDir, requireSession, waitMsOf, type RecipeEnv } from './recipes.js';

type Outcome = { held: true; key: string; stat: Stat } | { held: false; key: string; position: number };

function childrenOrNone(node: ZkNode, dir: string, ctx: RequestContext): string[] {
  try {
    return node.getChildren(dir, ctx, { unbounded: true }).children;
  } catch (e) {
    if (e instanceof ZkError && e.zkName === 'NoNode') return [];
    throw e;
  }
}

function statOrNull(node: ZkNode, path: string, ctx: RequestContext): Stat | null {
  try {
    return node.exists(path, ctx);
  } catch (e) {
    if (e instanceof ZkError && e.zkName === 'NoNode') return null;
    throw e;
  }
}

/** The nodes under `dir` that `session` owns, in line order, as this member has applied them. */
function ownedBy(node: ZkNode, dir: string, session: string, ctx: RequestContext): string[] {
  return bySeq(childrenOrNone(node, dir, ctx))
    .map((c) => `${dir}/${c}`)
    .filter((p) => statOrNull(node, p, ctx)?.ephemeralOwner === session);
}

/**
 * The session's first place under `dir`, where "none" is a quorum's answer: a member behind its leader may not yet
 * have applied a place the session took through another member, and concluding "none" from that stale copy gave the
 * session a second place behind its first. A place found locally needs no catch-up to be joined (waitFirst checks it).
 */
async function placeHeld(node: ZkNode, dir: string, session: string, ctx: RequestContext): Promise<string | undefined> {
  const local = ownedBy(node, dir, session, ctx)[0];
  if (local !== undefined) return local;
  await node.linearize();
  return ownedBy(node, dir, session, ctx)[0];
}

/**
 * Waits until `key` is the lowest node of `dir` (held), or the wait ends (its place kept). The session is kept alive
 * while the request waits, as a bound WebSocket keeps it; its end, or the client hanging up, ends the wait.
 */
async function waitFirst(env: RecipeEnv, dir: string, key: string, session: string, ctx: RequestContext, waitMs: number, hangup: AbortSignal): Promise<Outcome> {
  const { node, blocking } = env;
  const deadline = performance.now() + waitMs;
  const ac = new AbortController();
  const stop = () => ac.abort();
  hangup.addEventListener('abort', stop, { once: true });
  const onEnded = (id: string) => id === session && ac.abort();
  node.on('sessionEnded', onEnded);
  const timeoutMs = node.sessions.timeoutOf(session) ?? node.cfg.minSessionTimeout;
  const touch = setInterval(() => node.sessions.touch(session), Math.max(10, Math.floor(timeoutMs / 3)));
  try {
    const name = key.slice(dir.length + 1);
    for (;;) {
      // The index is the state the read below sees, so a change after it is either visible now or notified later.
      const index = node.store.lastZxid();
      const ordered = bySeq(childrenOrNone(node, dir, ctx));
      const i = ordered.indexOf(name);
      if (i < 0) throw new ZkError('SessionExpired', `${key} is gone: its session ended or it was deleted`, { path: key });
      if (i === 0) {
        // A lagging replica must not report a lock whose session has already ended: confirm with a quorum first.
        await node.linearize();
        const stat = statOrNull(node, key, ctx);
        if (!stat || stat.ephemeralOwner !== session) throw new ZkError('SessionExpired', `${key} is gone: its session ended`, { path: key });
        return { held: true, key, stat };
      }
      const left = deadline - performance.now();
      if (left <= 0 || ac.signal.aborted) return { held: false, key, position: i };
      await blocking.wait(`${dir}/${ordered[i - 1]}`, 'stat', index, left, ctx.auth, ac.signal);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    clearInterval(touch);
    node.off('sessionEnded', onEnded);
    hangup.removeEventListener('abort', stop);
  }
}

/** Joins (or rejoins: a session keeps one place per name) and waits; a client that hangs up before it holds leaves the line. */
async function joinAndWait(env: RecipeEnv, kind: 'lock' | 'election', dir: string, prefix: string, data: Uint8Array, ctx: RequestContext, waitMs: number, hangup: ReturnType<typeof hangupSignal>): Promise<Outcome> {
  const { node } = env;
  let release: (() => void) | undefined;
  try {
    // Inside the try: a request refused here (no session, too many waiters) must still drop its hang-up listeners.
    const session = requireSession(ctx);
    release = env.waiters.take(`${kind} ${dir}`);
    const key = await placeOf(env, dir, session, prefix, data, ctx);
    const out = await waitFirst(env, dir, key, session, ctx, waitMs, hangup.signal);
    if (!out.held && hangup.hungUp()) await node.write({ type: 'delete', path: key, version: -1, recursive: false }, ctx).catch(() => {});
    return out;
  } finally {
    release?.();
    hangup.done();
  }
}

/** The session's place in the line: the one it holds, the one another of its requests is creating, or a new one. */
async function placeOf(env: RecipeEnv, dir: string, session: string, prefix: string, data: Uint8Array, ctx: RequestContext): Promise<string> {
  const held = await placeHeld(env.node, dir, session, ctx);
  if (held !== undefined) return held;
  const k = `${dir}\0${session}`;
  const pending = env.joining.get(k);
  if (pending !== undefined) return pending;
  const created = createInDir(env.node, dir, prefix, data, 'EPHEMERAL_SEQUENTIAL', 'CONTAINER', ctx);
  env.joining.set(k, created);
  try {
    return await created;
  } finally {
    env.joining.delete(k);
  }
}

async function leave(node: ZkNode, dir: string, ctx: RequestContext, what: string): Promise<void> {
  const session = requireSession(ctx);
  // Always a quorum's answer here, even with a place found locally: "holds none" from a lagging member answered 404
  // and left the lock held, and a place found locally may be stale (released elsewhere and taken anew since).
  await node.linearize();
  const mine = ownedBy(node, dir, session, ctx);
  if (mine.length === 0) throw new ZkError('NoNode', `session ${session} holds no ${what} on ${dir}`, { path: dir });
  for (const p of mine) {
    try {
      await node.write({ type: 'delete', path: p, version: -1, recursive: false }, ctx);
    } catch (e) {
      if (!(e instanceof ZkError && e.zkName === 'NoNode')) throw e;
    }
  }
}

const errors = { 400: ErrorRef, 403: ErrorRef, 404: ErrorRef, 410: ErrorRef, 503: ErrorRef };

export const lockRoutes: FastifyPluginAsync<{ env: RecipeEnv }> = async (app, { env }) => {
  const { node } = env;
  const f = app.withTypeProvider<TypeBoxTypeProvider>();

  f.post('/v1/recipes/locks/:name', {
    schema: {
      tags: ['recipes'],
      summary: 'acquire a lock (long-poll)',
      description:
        "Joins the lock's line for the `ZK-Session` session (an ephemeral sequential node under /zkgate/locks/<name>) and waits until it " +
        'holds the lock (200) or `?wait` ends (202, the place is kept: ask again to keep waiting). Each waiter waits only for the one ahead ' +
        'of it. Asking again with the same session finds its place; hanging up before holding gives it away. The lock is freed by DELETE, ' +
        'or when the session closes or expires. `zxid` is a fencing token. The session is kept alive while the request waits.',
      params: RecipeNameParams,
      querystring: RecipeWaitQuery,
      headers: SessionHeaders,
      response: { 200: LockHeld, 202: LockWaiting, ...errors },
    },
    handler: async (req, reply) => {
      const ctx = requestContext(req, node);
      const dir = recipeDir(RECIPE_ROOT.locks, req.params.name);
      const out = await joinAndWait(env, 'lock', dir, 'lock-', new Uint8Array(0), ctx, waitMsOf(node, req.query.wait, node.cfg.recipeMaxWaitMs), hangupSignal(req, env.closing));
      if (out.held) return reply.code(200).send({ name: req.params.name, key: out.key, held: true as const, owner: out.stat.ephemeralOwner, zxid: out.stat.czxid });
      return reply.code(202).send({ name: req.params.name, key: out.key, held: false as const, position: out.position });
    },
  });

  f.get('/v1/recipes/locks/:name', {
    schema: {
      tags: ['recipes'],
      summary: 'who holds a lock',
      description: 'The lowest node of the line and its session; 404 NoNode when nobody holds or waits.',
      params: RecipeNameParams,
      response: { 200: LockHolder, ...errors },
    },
    handler: async (req) => {
      const ctx = requestContext(req, node);
      const dir = recipeDir(RECIPE_ROOT.locks, req.params.name);
      const line = bySeq(childrenOrNone(node, dir, ctx));
      for (const c of line) {
        const st = statOrNull(node, `${dir}/${c}`, ctx);
        if (st) return { name: req.params.name, key: `${dir}/${c}`, owner: st.ephemeralOwner, zxid: st.czxid, waiting: line.length - 1 };
      }
      throw new ZkError('NoNode', `nobody holds lock ${req.params.name}`, { path: dir });
    },
  });

  f.delete('/v1/recipes/locks/:name', {
    schema: {
      tags: ['recipes'],
      summary: 'release a lock',
      description: "Deletes the `ZK-Session` session's node in the line (held or waiting); the next waiter gets the lock. 404 NoNode when it has none.",
      params: RecipeNameParams,
      headers: SessionHeaders,
      response: { 204: Type.Null({ examples: [null] }), ...errors },
    },
    handler: async (req, reply) => {
      const ctx = requestContext(req, node);
      await leave(node, recipeDir(RECIPE_ROOT.locks, req.params.name), ctx, 'lock');
      return reply.code(204).send(null);
    },
  });

  f.post('/v1/recipes/elections/:name/campaign', {
    schema: {
      tags: ['recipes'],
      summary: 'campaign for leadership (long-poll)',
      description:
        "The body is the candidate's value (e.g. its address). Joins the election for the `ZK-Session` session (an ephemeral sequential node " +
        'under /zkgate/elections/<name>) and waits until it leads (200) or `?wait` ends (202, still a candidate: ask again). Leadership ends ' +
        'with resign, or when the session closes or expires; the next candidate then leads.',
      params: RecipeNameParams,
      querystring: RecipeWaitQuery,
      headers: SessionHeaders,
      body: RawBody("the candidate's value", 'worker-1:8080'),
      consumes: RAW_CONSUMES,
      response: { 200: CampaignWon, 202: CampaignWaiting, ...errors },
    },
    handler: async (req, reply) => {
      const ctx = requestContext(req, node);
      const dir = recipeDir(RECIPE_ROOT.elections, req.params.name);
      const value = bodyBytes(req.body);
      const out = await joinAndWait(env, 'election', dir, 'n_', value, ctx, waitMsOf(node, req.query.wait, node.cfg.recipeMaxWaitMs), hangupSignal(req, env.closing));
      if (!out.held) return reply.code(202).send({ name: req.params.name, key: out.key, leader: false as const, position: out.position });
      const enc = encodeData(node.getData(out.key, ctx).data, false);
      return reply.code(200).send({ name: req.params.name, key: out.key, leader: true as const, value: enc.data, encoding: enc.encoding, zxid: out.stat.czxid });
    },
  });

  f.get('/v1/recipes/elections/:name/leader', {
    schema: {
      tags: ['recipes'],
      summary: 'the current leader',
      description: "The lowest candidate: its value and session. 404 NoNode when there are no candidates.",
      params: RecipeNameParams,
      response: { 200: LeaderInfo, ...errors },
    },
    handler: async (req) => {
      const ctx = requestContext(req, node);
      const dir = recipeDir(RECIPE_ROOT.elections, req.params.name);
      for (const c of bySeq(childrenOrNone(node, dir, ctx))) {
        try {
          const r = node.getData(`${dir}/${c}`, ctx);
          const enc = encodeData(r.data, false);
          return { name: req.params.name, key: `${dir}/${c}`, value: enc.data, encoding: enc.encoding, owner: r.stat.ephemeralOwner, zxid: r.stat.czxid };
        } catch (e) {
          if (!(e instanceof ZkError && e.zkName === 'NoNode')) throw e;
        }
      }
      throw new ZkError('NoNode', `election ${req.params.name} has no candidates`, { path: dir });
    },
  });

  f.post('/v1/recipes/elections/:name/resign', {
    schema: {
      tags: ['recipes'],
      summary: 'resign (or withdraw a candidacy)',
      description: "Deletes the `ZK-Session` session's candidate node; if it led, the next candidate leads. 404 NoNode when it has none.",
      params: RecipeNameParams,
      headers: SessionHeaders,
      response: { 204: Type.Null({ examples: [null] }), ...errors },
    },
    handler: async (req, reply) => {
      const ctx = requestContext(req, node);
      await leave(node, recipeDir(RECIPE_ROOT.elections, req.params.name), ctx, 'candidacy');
      return reply.code(204).send(null);
    },
  });
};
