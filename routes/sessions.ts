// /v1/sessions: create, keepalive, inspect and close sessions (API.md §4); /v1/sync.
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ZkNode } from '../server/node.js';
import { ErrorRef, SessionCreateBody, SessionInfoResponse, SessionParams, SessionResponse, SyncResponse } from '../openapi/schemas.js';
import { requestSession } from './context.js';
import { sessionIdOf } from '../server/sessions/session-id.js';

export const sessionRoutes: FastifyPluginAsync<{ node: ZkNode }> = async (app, { node }) => {
  const f = app.withTypeProvider<TypeBoxTypeProvider>();
  const norm = (id: string) => sessionIdOf(id, 'session id');

  f.post('/v1/sessions', {
    schema: {
      tags: ['sessions'],
      summary: 'create a session',
      description: 'The timeout is negotiated into [minSessionTimeout, maxSessionTimeout] (default 30000 ms requested).',
      body: SessionCreateBody,
      response: { 201: SessionResponse, 400: ErrorRef, 410: ErrorRef, 503: ErrorRef },
    },
    // A bare `POST /v1/sessions` (no body at all) asks for the default timeout.
    preValidation: async (req) => {
      if (req.body === undefined) req.body = {};
    },
    handler: async (req, reply) => {
      // A ZK-Session header naming an ended session is 410 here too (API.md §4: any request carrying one).
      requestSession(req, node);
      const s = await node.createSession(req.body?.timeoutMs);
      return reply.code(201).send(s);
    },
  });

  f.post('/v1/sessions/:id/keepalive', {
    schema: {
      tags: ['sessions'],
      summary: 'keep a session alive',
      description: 'On an ensemble member that knows no leader (mode `looking`) it is 503 ConnectionLoss with `Retry-After`: only the leader expires sessions, so the touch would reach nobody. Try another server.',
      params: SessionParams,
      response: { 200: SessionResponse, 410: ErrorRef, 503: ErrorRef },
    },
    handler: async (req) => {
      requestSession(req, node);
      return node.keepalive(norm(req.params.id));
    },
  });

  f.get('/v1/sessions/:id', {
    schema: { tags: ['sessions'], summary: 'a session and its ephemerals', params: SessionParams, response: { 200: SessionInfoResponse, 410: ErrorRef } },
    handler: async (req) => {
      requestSession(req, node);
      return node.getSession(norm(req.params.id));
    },
  });

  f.delete('/v1/sessions/:id', {
    schema: {
      tags: ['sessions'],
      summary: 'close a session',
      description: 'Its ephemeral nodes are deleted at once, in one transaction.',
      params: SessionParams,
      response: { 204: Type.Null(), 410: ErrorRef },
    },
    handler: async (req, reply) => {
      requestSession(req, node);
      await node.closeSession(norm(req.params.id));
      return reply.code(204).send(null);
    },
  });

  f.post('/v1/sync', {
    schema: {
      tags: ['znodes'],
      summary: 'sync',
      description: 'After it returns, this node has applied everything committed before the call.',
      response: { 200: SyncResponse, 410: ErrorRef, 503: ErrorRef },
    },
    handler: async (req) => {
      requestSession(req, node);
      return { zxid: String(await node.linearize('sync')) };
    },
  });
};
