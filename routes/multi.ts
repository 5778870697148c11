// POST /v1/multi: multi (all or nothing, ZooKeeper's per-op results) and multiRead (read-only batches).
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import { ZkError } from '../server/errors.js';
import { OPEN_ACL_UNSAFE, parseAclString, parsePerms } from '../server/tree/acl.js';
import { validatePath } from '../server/tree/paths.js';
import type { Acl, CreateMode, MultiOp, Stat } from '../server/tree/types.js';
import { nameBytes } from '../server/children-listing.js';
import type { ZkNode } from '../server/node.js';
import type { RequestContext } from '../server/tree/prepare.js';
import { ErrorRef, MultiBody, MultiOpSchema, MultiResponse } from '../openapi/schemas.js';
import { decodeData, encodeData, requestContext } from './context.js';

type WireOp = Static<typeof MultiOpSchema>;

function toAcl(list: WireOp['acl']): Acl[] {
  if (!list) return OPEN_ACL_UNSAFE;
  return list.map((a) => (typeof a === 'string' ? parseAclString(a) : { scheme: a.scheme, id: a.id, perms: parsePerms(a.perms) }));
}

function toOp(w: WireOp): MultiOp {
  switch (w.op) {
    case 'create':
      return {
        type: 'create',
        path: w.path,
        data: decodeData(w.data, w.encoding),
        acl: toAcl(w.acl),
        mode: (w.mode ?? 'PERSISTENT') as CreateMode,
        ttlMs: w.ttl ?? 0,
        parents: false,
      };
    case 'set':
      return { type: 'set', path: w.path, data: decodeData(w.data, w.encoding), version: w.version ?? -1 };
    case 'delete':
      return { type: 'delete', path: w.path, version: w.version ?? -1, recursive: false };
    case 'check':
      return { type: 'check', path: w.path, version: w.version ?? -1 };
    default:
      throw new ZkError('BadArguments', `op ${w.op} cannot be mixed with write ops (use a read-only batch for multiRead)`, { path: w.path });
  }
}

/** An op that cannot be read is that op's failure, reported in order with the others (see prepareMulti). */
function orError(convert: (w: WireOp) => MultiOp): (w: WireOp) => MultiOp | ZkError {
  return (w) => {
    try {
      return convert(w);
    } catch (e) {
      if (e instanceof ZkError) return e;
      throw e;
    }
  };
}

/**
 * Each op's answer, or its error; the whole answer at most jute.maxbuffer bytes of data and names, as ZooKeeper's
 * answer is one packet its client takes only that large (600 reads of a 1 MB node made a string V8 cannot hold).
 */
function multiRead(node: ZkNode, ops: WireOp[], ctx: RequestContext): unknown[] {
  // The whole request, not each op: per-op ConnectionLoss results would read as an answer.
  node.requireCurrentTree();
  const budget = node.cfg.juteMaxBuffer;
  let bytes = 0;
  const tooLarge = () =>
    new ZkError('BadArguments', `the answer to this multiRead would be larger than jute.maxbuffer (${budget} bytes), which ZooKeeper's client refuses; read in smaller batches`);
  return ops.map((w) => {
    let r: { children: string[]; stat: Stat } | { data: Uint8Array; stat: Stat };
    try {
      validatePath(w.path);
      r = w.op === 'children' ? node.getChildren(w.path, ctx) : node.getData(w.path, ctx);
    } catch (e) {
      if (e instanceof ZkError) return { error: e.zkName, code: e.code };
      throw e;
    }
    if ('children' in r) {
      for (const name of r.children) bytes += nameBytes(name);
      if (bytes > budget) throw tooLarge();
      return { children: r.children, stat: r.stat };
    }
    bytes += r.data.byteLength;
    if (bytes > budget) throw tooLarge();
    return { ...encodeData(r.data, w.encoding === 'base64'), stat: r.stat };
  });
}

export const multiRoutes: FastifyPluginAsync<{ node: ZkNode }> = async (app, { node }) => {
  const f = app.withTypeProvider<TypeBoxTypeProvider>();
  f.post('/v1/multi', {
    schema: {
      tags: ['multi'],
      summary: 'multi / multiRead',
      description:
        'Write ops (create, set, delete, check) commit all or nothing at one zxid. On failure the response has the failing op\'s ' +
        'status and error, and `results` as ZooKeeper reports them: `{error:"Ok"}` before the failing op, its own error, then ' +
        '`{error:"RuntimeInconsistency", code:-2}`. Ops are checked in order, as ZooKeeper prepares them: an op that fails ' +
        'validation (bad path, mode, ACL or data) is the failure only if no op before it fails against the state. A create\'s ' +
        '`mode` defaults to `PERSISTENT`; a `ttl` needs a TTL mode. A batch of only get/children ops is a multiRead: per-op results, never aborted. An empty batch is `{results: []}`, no transaction.',
      body: MultiBody,
      response: { 200: MultiResponse, 400: ErrorRef, 403: ErrorRef, 404: ErrorRef, 409: ErrorRef, 410: ErrorRef, 412: ErrorRef },
    },
    handler: async (req, reply) => {
      const ctx = requestContext(req, node);
      const ops = req.body.ops;
      // ZooKeeper's client answers an empty multi itself ("nothing to do"), with no request and no zxid.
      if (ops.length === 0) return { results: [] };
      const reads = ops.filter((o) => o.op === 'get' || o.op === 'children').length;
      if (reads === ops.length) return { results: multiRead(node, ops, ctx) };
      if (reads > 0) throw new ZkError('BadArguments', 'read ops (get, children) and write ops cannot be mixed in one multi');
      const r = await node.multi(ops.map(orError(toOp)), ctx);
      if (r.ok) {
        if (r.value.kind !== 'multi') throw new Error('multi returned ' + r.value.kind);
        return { results: r.value.results };
      }
      return reply.code(r.error.status as 400).send({ ...r.error.toBody(), results: r.results });
    },
  });
};
