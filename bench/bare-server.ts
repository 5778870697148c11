// The baseline: a bare fastify server answering GET /bare with a fixed body held in memory (the bytes of a
// real zkgate getData response, so both send the same payload) and PUT /bare with a fixed small body.
// Usage: node dist/bench/bare-server.js <port> <body-file>
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const getBody = readFileSync(process.argv[3] ?? '');
const putBody = Buffer.from('{"path":"/bare","stat":{}}');

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.get('/bare', (_req, reply) => {
  reply.type('application/json').send(getBody);
});
app.put('/bare', (_req, reply) => {
  reply.type('application/json').send(putBody);
});
await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
