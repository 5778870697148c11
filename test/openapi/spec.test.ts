// The committed openapi/openapi.json is exactly what the server serves, and every operation is documented.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { servedSpec, stableJson } from '../../openapi/generate.js';
import { startTestServer } from '../helpers/server.js';

const committedPath = new URL('../../../openapi/openapi.json', import.meta.url);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function hasExample(v: Json, components: Record<string, Json>, seen = new Set<string>()): boolean {
  if (Array.isArray(v)) return v.some((x) => hasExample(x, components, seen));
  if (v === null || typeof v !== 'object') return false;
  if ('example' in v || 'examples' in v) return true;
  const ref = v.$ref;
  if (typeof ref === 'string') {
    const name = ref.split('/').pop() as string;
    if (seen.has(name)) return false;
    seen.add(name);
    return hasExample(components[name] ?? null, components, seen);
  }
  return Object.values(v).some((x) => hasExample(x, components, seen));
}

t.test('the committed openapi.json matches the spec the server serves (run `npm run openapi` after changing routes)', async (t) => {
  const served = await servedSpec();
  const committed = readFileSync(committedPath, 'utf8');
  t.equal(stableJson(served), committed);
});

t.test('every operation has a summary and an example', async (t) => {
  const spec = (await servedSpec()) as { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> } };
  const ops = Object.entries(spec.paths).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ id: `${m.toUpperCase()} ${p}`, op })));
  t.ok(ops.length >= 10, `documents ${ops.length} operations`);
  for (const { id, op } of ops) {
    const o = op as { summary?: string };
    t.ok(o.summary, `${id} has a summary`);
    t.ok(hasExample(op, spec.components.schemas), `${id} has an example`);
  }
});

t.test('Swagger UI is served at /docs and the spec at /openapi.json', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const ui = await fetch(`${s.url}/docs/`);
  t.equal(ui.status, 200);
  t.match(await ui.text(), /swagger/i);
  const spec = await fetch(`${s.url}/openapi.json`);
  t.equal(spec.status, 200);
  t.match((await spec.json()) as object, { openapi: /^3\./, info: { title: 'zkgate' } });
});
