// A FIFO queue over HTTP (ZooKeeper's queue recipe, the SDK's DistributedQueue layout): offer appends a
// PERSISTENT_SEQUENTIAL `qn-` node; poll claims the head by deleting it at the version it read, so each element goes
// to exactly one consumer, and long-polls (bounded) while the queue is empty.
import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ZkError } from '../server/errors.js';
import type { RequestContext } from '../server/tree/prepare.js';
import type { Acl } from '../server/tree/types.js';
import type { ZkNode } from '../server/node.js';
import { ErrorRef } from '../openapi/schemas.js';
import { PollQuery, QueueItem, QueueOffered, QueueSize, RAW_CONSUMES, RawBody, RecipeNameParams } from '../openapi/recipe-schemas.js';
import { encodeData, requestContext } from './context.js';
import { RECIPE_ROOT, bodyBytes, bySeq, createInDir, hangupSignal, recipeDir, waitMsOf, type RecipeEnv } from './recipes.js';

const PREFIX = 'qn-';
const isItem = (n: string) => n.startsWith(PREFIX);

function items(node: ZkNode, dir: string, ctx: RequestContext): string[] {
  try {
    return bySeq(node.getChildren(dir, ctx, { unbounded: true }).children, isItem);
  } catch (e) {
    if (e instanceof ZkError && e.zkName === 'NoNode') return [];
    throw e;
  }
}

interface Claimed {
  key: string;
  data: Uint8Array;
  acl: Acl[];
}

/** Claims the first element still there; null when every listed one was taken by someone else first. */
async function claim(node: ZkNode, dir: string, names: string[], ctx: RequestContext): Promise<Claimed | null> {
  for (const name of names) {
    const key = `${dir}/${name}`;
    try {
      const { data, stat, acl } = node.getData(key, ctx);
      await node.write({ type: 'delete', path: key, version: stat.version, recursive: false }, ctx);
      return { key, data, acl };
    } catch (e) {
      if (!(e instanceof ZkError && (e.zkName === 'NoNode' || e.zkName === 'BadVersion'))) throw e;
    }
  }
  return null;
}

/**
 * Puts a claimed element back under its own name, so the head again (names sort by their sequence), with its data
 * and ACL: its poller hung up before the answer could be written. Logged when that fails (the poller may not create
 * in the queue), as the element is then gone.
 */
async function putBack(node: ZkNode, got: Claimed, ctx: RequestContext, log: FastifyBaseLogger): Promise<void> {
  try {
    await node.write({ type: 'create', path: got.key, data: got.data, acl: got.acl, mode: 'PERSISTENT', ttlMs: 0, parents: false }, ctx);
    log.info({ key: got.key }, 'queue poll: the poller hung up before the answer; the element is back at the head');
  } catch (e) {
    log.error({ key: got.key, bytes: got.data.byteLength, err: e }, 'queue poll: the poller hung up before the answer, and the element could not be put back: it is lost');
  }
}

const errors = { 400: ErrorRef, 403: ErrorRef, 410: ErrorRef, 503: ErrorRef };

export const queueRoutes: FastifyPluginAsync<{ env: RecipeEnv }> = async (app, { env }) => {
  const { node, blocking } = env;
  const f = app.withTypeProvider<TypeBoxTypeProvider>();

  f.post('/v1/recipes/queues/:name', {
    schema: {
      tags: ['recipes'],
      summary: 'offer: append an element',
      description: 'The body (raw bytes) becomes a PERSISTENT_SEQUENTIAL node /zkgate/queues/<name>/qn-<seq>; elements are taken in that order.',
      params: RecipeNameParams,
      body: RawBody('the element', 'resize image 7'),
      consumes: RAW_CONSUMES,
      response: { 201: QueueOffered, ...errors, 413: ErrorRef },
    },
    handler: async (req, reply) => {
      const ctx = requestContext(req, node);
      const dir = recipeDir(RECIPE_ROOT.queues, req.params.name);
      const key = await createInDir(node, dir, PREFIX, bodyBytes(req.body), 'PERSISTENT_SEQUENTIAL', 'PERSISTENT', ctx);
      return reply.code(201).send({ name: req.params.name, key });
    },
  });

  f.get('/v1/recipes/queues/:name', {
    schema: { tags: ['recipes'], summary: 'queue length', params: RecipeNameParams, response: { 200: QueueSize, ...errors } },
    handler: async (req) => {
      const ctx = requestContext(req, node);
      return { name: req.params.name, size: items(node, recipeDir(RECIPE_ROOT.queues, req.params.name), ctx).length };
    },
  });

  f.post('/v1/recipes/queues/:name/poll', {
    schema: {
      tags: ['recipes'],
      summary: 'poll: take the head (long-poll with ?wait)',
      description:
        'Removes and returns the oldest element (200). Each element is returned to at most one poller (a member that dies between the claim and the answer loses it: docs/client.md). When the queue is empty, waits up to ' +
        '`?wait` (default 0, capped at recipeMaxWaitMs) for an element, then answers 204.',
      params: RecipeNameParams,
      querystring: PollQuery,
      response: { 200: QueueItem, 204: Type.Null({ examples: [null] }), ...errors },
    },
    handler: async (req, reply) => {
      const ctx = requestContext(req, node);
      const dir = recipeDir(RECIPE_ROOT.queues, req.params.name);
      const deadline = performance.now() + waitMsOf(node, req.query.wait, 0);
      const release = env.waiters.take(`queue ${dir}`);
      const hangup = hangupSignal(req, env.closing);
      try {
        for (;;) {
          // A poller that has hung up (or a server closing) takes nothing: an element claimed for it would be lost.
          if (hangup.signal.aborted) return reply.code(204).send(null);
          const index = node.store.lastZxid();
          const got = await claim(node, dir, items(node, dir, ctx), ctx);
          if (got && (hangup.hungUp() || req.raw.socket.destroyed)) {
            await putBack(node, got, ctx, req.log);
            return reply.code(204).send(null);
          }
          if (got) {
            const enc = encodeData(got.data, req.query.encoding === 'base64');
            return reply.code(200).send({ name: req.params.name, key: got.key, data: enc.data, encoding: enc.encoding });
          }
          const left = deadline - performance.now();
          if (left <= 0 || hangup.signal.aborted) return reply.code(204).send(null);
          // Wakes when the element list changes after `index` (an offer, another poller's take), not on unrelated writes.
          await blocking.wait(dir, 'children', index, left, ctx.auth, hangup.signal);
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        release();
        hangup.done();
      }
    },
  });
};
