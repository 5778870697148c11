// The per-request log line: one at `debug`, written when the answer is sent, with the request (method, url, reqId)
// and its outcome. fastify's own pair ("incoming request", "request completed") is two lines at `info`, which a
// consumer filtering on level cannot tell from the node's real info lines (elections, expiries).
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.debug({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
