// GET /metrics: the node's Prometheus metrics in the text exposition format (open, like mntr).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { NodeMetrics } from '../server/metrics.js';

export const metricsRoutes: FastifyPluginAsync<{ metrics: NodeMetrics }> = async (app, { metrics }) => {
  app.get('/metrics', {
    schema: {
      tags: ['admin'],
      summary: 'Prometheus metrics',
      produces: ['text/plain'],
      response: { 200: Type.String({ examples: ['# TYPE zkgate_znodes gauge\nzkgate_znodes 4\n'] }) },
    },
    handler: async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()),
  });
};
