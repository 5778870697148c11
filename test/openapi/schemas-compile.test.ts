// Route schemas are compiled when first used or by the warm-up after listen (server/lazy-schemas.ts), not before the
// server listens: every one of them must still compile, and the warm-up must get through all of them.
import t from 'tap';
import { servedSpec } from '../../openapi/generate.js';
import { startTestServer } from '../helpers/server.js';

t.test('every validator and serializer of every route compiles', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  s.schemas.compileAll();
  t.equal(s.schemas.pending, 0);
});

t.test('after listen, the warm-up compiles every schema in the background', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const deadline = Date.now() + 20_000;
  while (s.schemas.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.equal(s.schemas.pending, 0, 'nothing left to compile');
});

t.test('a route whose schemas are not compiled yet validates and serializes as compiled ones do', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  // Straight after start, before the warm-up's turns: a 400 from the body validator and a 200 through a serializer.
  const [bad, good] = await Promise.all([
    fetch(`${s.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"timeoutMs":"x"}' }),
    fetch(`${s.url}/v1/admin/srvr`),
  ]);
  t.equal(bad.status, 400);
  t.match(await bad.json(), { error: 'BadArguments', code: -8 });
  t.equal(good.status, 200);
  t.match(await good.json(), { mode: 'standalone', zxid: String });
});

t.test('header schemas name their headers in lower case (fastify passes them on as they are to a validator factory it is given)', async (t) => {
  const spec = (await servedSpec()) as { paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>> };
  let headers = 0;
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      for (const p of op.parameters ?? []) {
        if (p.in !== 'header') continue;
        headers++;
        t.equal(p.name, p.name.toLowerCase(), `${method.toUpperCase()} ${path}: ${p.name}`);
      }
    }
  }
  t.ok(headers > 0, `${headers} header parameters checked`);
});
