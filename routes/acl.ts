// /v1/acl/<path>: getACL and setACL (with aversion compare-and-set).
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { aclToJson, maskedAcl, parsePerms } from '../server/tree/acl.js';
import { pathFromUrl } from '../server/tree/paths.js';
import type { ZkNode } from '../server/node.js';
import { AclBody, AclResponse, ErrorRef, IfMatchHeaders, NoQuery, VersionQuery } from '../openapi/schemas.js';
import { expectedVersion, requestContext } from './context.js';
import type { Stat } from '../server/tree/types.js';

const PREFIX = '/v1/acl';

/** On these routes If-Match is compared with the ACL's version, so the ETag they give is that one: `"<aversion>"`. */
function aversionTag(reply: FastifyReply, stat: Stat): void {
  reply.header('ETag', `"${stat.aversion}"`);
}

export const aclRoutes: FastifyPluginAsync<{ node: ZkNode }> = async (app, { node }) => {
  const f = app.withTypeProvider<TypeBoxTypeProvider>();
  const pathOf = (url: string) => {
    const q = url.indexOf('?');
    return pathFromUrl((q < 0 ? url : url.slice(0, q)).slice(PREFIX.length));
  };
  const errors = { 400: ErrorRef, 403: ErrorRef, 404: ErrorRef, 410: ErrorRef };

  f.get(`${PREFIX}/*`, {
    schema: {
      tags: ['acl'],
      summary: 'getACL',
      description: 'Needs READ or ADMIN; without ADMIN, digest hashes are masked as `user:x` as ZooKeeper does.',
      headers: IfMatchHeaders,
      querystring: NoQuery,
      response: { 200: AclResponse, ...errors },
    },
    handler: async (req, reply) => {
      const path = pathOf(req.url);
      const r = node.getAcl(path, requestContext(req, node));
      aversionTag(reply, r.stat);
      return { acl: aclToJson(maskedAcl(r.acl, r.canAdmin)), stat: r.stat };
    },
  });

  f.put(`${PREFIX}/*`, {
    schema: {
      tags: ['acl'],
      summary: 'setACL',
      description: 'Needs ADMIN. `If-Match` (or `?version`) carries the expected `aversion`; the answer\'s `ETag` is the new `"<aversion>"`, as getACL\'s is the current one.',
      headers: IfMatchHeaders,
      querystring: VersionQuery,
      body: AclBody,
      response: { 200: AclResponse, ...errors, 412: ErrorRef },
    },
    handler: async (req, reply) => {
      const path = pathOf(req.url);
      const ctx = requestContext(req, node);
      const aversion = expectedVersion(req.headers['if-match'], req.query.version);
      const acl = req.body.acl.map((a) => ({ scheme: a.scheme, id: a.id, perms: parsePerms(a.perms) }));
      const { value, acl: set } = await node.setAcl(path, acl, aversion, ctx);
      if (value.kind !== 'stat') throw new Error('setAcl returned ' + value.kind);
      // What this write set, beside its own stat: a read here would show a later write of the same batch, or
      // NoNode after a delete that followed it.
      aversionTag(reply, value.stat);
      return { acl: aclToJson(set), stat: value.stat };
    },
  });
};
