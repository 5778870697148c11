// /v1/znodes/<path>: getData, getChildren2, exists, create2, setData, delete (API.md §3).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ZkError } from '../server/errors.js';
import { parseAclString, OPEN_ACL_UNSAFE } from '../server/tree/acl.js';
import { MAX_PATH_BYTES, pathFromUrl } from '../server/tree/paths.js';
import { MAX_PAGE, type ChildrenPage } from '../server/children-listing.js';
import { createModeFromFlags } from '../server/tree/prepare.js';
import type { ZkNode } from '../server/node.js';
import {
  ChildrenResponse,
  DataResponse,
  ErrorRef,
  IfMatchHeaders,
  PathStatResponse,
  VersionQuery,
  DeleteQuery,
  ZnodeCreateQuery,
  ZnodeGetQuery,
  NoQuery,
} from '../openapi/schemas.js';
import { encodeData, expectedVersion, flag, requestContext, setStatHeaders, znodeUrl } from './context.js';
import { Type } from '@sinclair/typebox';
import '@fastify/swagger';

const PREFIX = '/v1/znodes';

/** The znode path of a request: the raw URL after /v1/znodes, segments percent-decoded. */
export function znodePath(req: FastifyRequest): string {
  const url = req.url;
  const q = url.indexOf('?');
  const raw = (q < 0 ? url : url.slice(0, q)).slice(PREFIX.length);
  return pathFromUrl(raw);
}

const errors = { 400: ErrorRef, 403: ErrorRef, 404: ErrorRef, 410: ErrorRef, 503: ErrorRef };

export interface ZnodeRouteOptions {
  node: ZkNode;
  /** Blocking reads (Consul-style ?wait&index) are provided by the watch subsystem when present. */
  blockingRead?: (req: FastifyRequest, path: string, index: number, waitMs: number) => Promise<void>;
}

export const znodeRoutes: FastifyPluginAsync<ZnodeRouteOptions> = async (app, opts) => {
  const { node } = opts;
  const f = app.withTypeProvider<TypeBoxTypeProvider>();
  const maxBody = node.cfg.juteMaxBuffer;

  // A write's body is the znode's raw bytes whatever its Content-Type.
  f.removeAllContentTypeParsers();
  f.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBody }, (_req, body, done) => done(null, body));

  f.route({
    method: 'GET',
    url: `${PREFIX}/*`,
    exposeHeadRoute: false,
    schema: {
      tags: ['znodes'],
      summary: 'getData / getChildren2 / exists',
      description:
        'Default: the data and stat. `?children`: the sorted child names and stat, at most jute.maxbuffer bytes of names ' +
        '(4 + the UTF-8 bytes of each, as ZooKeeper counts them; past it 400 BadArguments); `?children&limit=N&after=NAME`: a ' +
        'page of them and `more`. `?stat`: only the stat. ' +
        '`Accept: application/octet-stream` returns the raw bytes with the stat in the `ZK-Stat` header (JSON). ' +
        '`encoding` is utf8 when the bytes are valid UTF-8 and `?encoding=base64` was not asked. ' +
        '`?wait=30s&index=<zxid>` blocks until the node (or its children) changes after `index` (capped). ' +
        '503 ConnectionLoss (with `Retry-After`) when the node cannot answer yet: a `ZK-Min-Zxid` it has not reached, a ' +
        'follower installing a snapshot of the leader\'s state, whose tree is incomplete until that ends, or an ensemble ' +
        'member that has known no leader for longer than `syncLimit × tickTime` (or none since it started), whose tree ' +
        'may be out of date (unless `readonlymode.enabled`).',
      querystring: ZnodeGetQuery,
      headers: IfMatchHeaders,
      response: { 200: Type.Union([DataResponse, ChildrenResponse, PathStatResponse]), ...errors },
    },
    handler: async (req, reply) => {
      const path = znodePath(req);
      const ctx = requestContext(req, node);
      const q = req.query;
      if (q.wait !== undefined || q.index !== undefined) {
        if (!opts.blockingRead) throw new ZkError('Unimplemented', 'blocking reads are not available on this server');
        await opts.blockingRead(req, path, parseIndex(q.index), parseWait(q.wait));
      }
      if (q.consistency === 'linearizable') await node.linearize();
      const page = childrenPage(path, q);
      if (flag(q.children)) {
        const r = node.getChildren(path, ctx, { page });
        return page ? { path, children: r.children, stat: r.stat, more: r.more } : { path, children: r.children, stat: r.stat };
      }
      if (flag(q.stat)) return { path, stat: node.exists(path, ctx) };
      const r = node.getData(path, ctx);
      setStatHeaders(reply, r.stat);
      if (prefersOctets(req.headers.accept)) {
        reply.header('ZK-Stat', JSON.stringify(r.stat));
        reply.type('application/octet-stream');
        return reply.send(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength));
      }
      const enc = encodeData(r.data, q.encoding === 'base64');
      return { path, data: enc.data, encoding: enc.encoding, stat: r.stat };
    },
  });

  // The root without a trailing slash answers like /v1/znodes/.
  f.get(PREFIX, { schema: { hide: true } }, async (req, reply) => reply.redirect(`${PREFIX}/${req.url.slice(PREFIX.length)}`, 308));

  f.route({
    method: 'HEAD',
    url: `${PREFIX}/*`,
    schema: { tags: ['znodes'], summary: 'exists (200 or 404, no body)', headers: IfMatchHeaders, querystring: NoQuery },
    handler: async (req, reply) => {
      const path = znodePath(req);
      const ctx = requestContext(req, node);
      const stat = node.exists(path, ctx);
      setStatHeaders(reply, stat);
      reply.header('ZK-Stat', JSON.stringify(stat));
      return reply.code(200).send();
    },
  });

  f.route({
    method: 'POST',
    url: `${PREFIX}/*`,
    schema: {
      tags: ['znodes'],
      summary: 'create2',
      description:
        'The body is the new node\'s data (raw bytes, any Content-Type). Flags: `?sequential`, `?ephemeral` (needs `ZK-Session`), ' +
        '`?container`, `?ttl=<ms>`, `?parents`, `?acl=scheme:id:perms` (repeatable; default world:anyone:cdrwa). ' +
        'A sequential create of `/q/job-` makes `/q/job-0000000007`.',
      querystring: ZnodeCreateQuery,
      headers: IfMatchHeaders,
      response: { 201: PathStatResponse, ...errors, 409: ErrorRef, 413: ErrorRef },
    },
    handler: async (req, reply) => {
      const path = znodePath(req);
      const ctx = requestContext(req, node);
      const q = req.query;
      const ttlMs = q.ttl !== undefined ? Number(q.ttl) : undefined;
      const mode = createModeFromFlags({ sequential: flag(q.sequential), ephemeral: flag(q.ephemeral), container: flag(q.container), ttlMs });
      const acl = q.acl && q.acl.length > 0 ? q.acl.map(parseAclString) : OPEN_ACL_UNSAFE;
      const { value } = await node.write(
        { type: 'create', path, data: bodyBytes(req.body), acl, mode, ttlMs: ttlMs ?? 0, parents: flag(q.parents) },
        ctx,
      );
      if (value.kind !== 'create') throw new Error('create returned ' + value.kind);
      setStatHeaders(reply, value.stat);
      reply.header('Location', znodeUrl(value.path));
      return reply.code(201).send({ path: value.path, stat: value.stat });
    },
  });

  f.route({
    method: 'PUT',
    url: `${PREFIX}/*`,
    schema: {
      tags: ['znodes'],
      summary: 'setData',
      description: 'The body replaces the data. Compare-and-set with `If-Match: "<version>"` or `?version=N` (-1 = any).',
      querystring: VersionQuery,
      headers: IfMatchHeaders,
      response: { 200: PathStatResponse, ...errors, 412: ErrorRef, 413: ErrorRef },
    },
    handler: async (req, reply) => {
      const path = znodePath(req);
      const ctx = requestContext(req, node);
      const version = expectedVersion(req.headers['if-match'], req.query.version);
      const { value } = await node.write({ type: 'set', path, data: bodyBytes(req.body), version }, ctx);
      if (value.kind !== 'stat') throw new Error('set returned ' + value.kind);
      setStatHeaders(reply, value.stat);
      return { path, stat: value.stat };
    },
  });

  f.route({
    method: 'DELETE',
    url: `${PREFIX}/*`,
    schema: {
      tags: ['znodes'],
      summary: 'delete',
      description: '`If-Match`/`?version` as for PUT. `?recursive` deletes the whole subtree in one transaction (bounded: 100000 nodes).',
      querystring: DeleteQuery,
      headers: IfMatchHeaders,
      response: { 204: Type.Null(), ...errors, 409: ErrorRef, 412: ErrorRef },
    },
    handler: async (req, reply) => {
      const path = znodePath(req);
      const ctx = requestContext(req, node);
      const version = expectedVersion(req.headers['if-match'], req.query.version);
      await node.write({ type: 'delete', path, version, recursive: flag(req.query.recursive) }, ctx);
      return reply.code(204).send(null);
    },
  });

};

function bodyBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  throw new ZkError('MarshallingError', 'request body must be raw bytes');
}

function prefersOctets(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/octet-stream') && !accept.includes('application/json');
}

function parseIndex(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^\d+$/.test(raw)) throw new ZkError('BadArguments', `index must be a zxid (decimal), got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `30s`, `500ms`, `2m` or bare seconds. */
export function parseWait(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!m) throw new ZkError('BadArguments', `wait must look like 30s, 500ms or 2m, got ${JSON.stringify(raw)}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 'm' ? n * 60000 : n * 1000);
}

/** `?limit` (and `?after`) of a children listing of `path`: a page of it, or none for the whole listing. */
function childrenPage(path: string, q: { children?: string; limit?: string; after?: string }): ChildrenPage | undefined {
  if (q.limit === undefined && q.after === undefined) return undefined;
  if (!flag(q.children)) throw new ZkError('BadArguments', '?limit and ?after page a children listing: they need ?children');
  if (q.limit === undefined) throw new ZkError('BadArguments', '?after needs ?limit, the size of the page');
  const limit = Number(q.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new ZkError('BadArguments', `?limit must be 1 to ${MAX_PAGE}, got ${JSON.stringify(q.limit)}`);
  if (q.after === undefined) return { limit };
  // No child's path is longer than MAX_PATH_BYTES, and the store's keys hold no more.
  if (Buffer.byteLength(path, 'utf8') + 1 + Buffer.byteLength(q.after, 'utf8') > MAX_PATH_BYTES) {
    throw new ZkError('BadArguments', `?after is longer than a child of ${path} can be named (a path is at most ${MAX_PATH_BYTES} UTF-8 bytes)`);
  }
  return { limit, after: q.after };
}
