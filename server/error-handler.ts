// Every error a fastify instance of zkgate answers, ZooKeeper-style (API.md §6): the client port's and the metrics
// port's alike, so that a probe reads the same 503 (ConnectionLoss with Retry-After) on either.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SYSTEM_ERROR_BODY, ZkError, errorReply } from './errors.js';

/** `bodyLimit` names the bound a body too large passed, as the 413 says it (`jute.maxbuffer (1048575 bytes)`). */
export function zkErrorHandler(bodyLimit: string): (error: FastifyError | ZkError | Error, req: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (error, req, reply) => {
    if (error instanceof ZkError) {
      if (error.retryAfter !== undefined) reply.header('Retry-After', error.retryAfter);
      return errorReply(reply, error);
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const v = fe.validation[0];
      const extra = v?.keyword === 'additionalProperties' ? (v.params as { additionalProperty?: unknown }).additionalProperty : undefined;
      if (fe.validationContext === 'querystring' && typeof extra === 'string') {
        return errorReply(reply, new ZkError('BadArguments', `unknown query parameter ${JSON.stringify(extra)}`));
      }
      return errorReply(reply, new ZkError('BadArguments', `${fe.validationContext ?? 'request'} ${v?.instancePath ?? ''} ${v?.message ?? fe.message}`.replace(/\s+/g, ' ').trim()));
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return errorReply(reply, new ZkError('BadArguments', `request body is larger than ${bodyLimit}`, { httpStatus: 413 }));
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
      return errorReply(reply, new ZkError('MarshallingError', fe.message));
    }
    if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
      return errorReply(reply, new ZkError('MarshallingError', fe.message));
    }
    req.log.error({ err: error, url: req.url, method: req.method }, 'unexpected error');
    return reply.code(500).send(SYSTEM_ERROR_BODY);
  };
}
