// GET /v1/znodes answers (getData, getChildren, exists) share one route whose 200 schema is a union: each answer
// must match its own documented schema exactly (keys, types) and say it is JSON.
import t, { type Test } from 'tap';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ChildrenResponse, DataResponse, PathStatResponse, StatSchema } from '../../openapi/schemas.js';
import { startTestServer } from '../helpers/server.js';

async function check(t: Test, url: string, schema: TSchema, keys: string[]): Promise<Record<string, unknown>> {
  const r = await fetch(url);
  t.equal(r.status, 200, `${url} answers 200`);
  t.equal(r.headers.get('content-type'), 'application/json; charset=utf-8', 'as JSON');
  const body = (await r.json()) as Record<string, unknown>;
  t.ok(Value.Check(schema, [StatSchema], body), `${url}: ${[...Value.Errors(schema, [StatSchema], body)].map((e) => `${e.path} ${e.message}`).join('; ') || 'matches its schema'}`);
  t.same(Object.keys(body), keys, 'with exactly the documented keys');
  t.same(Object.keys(body.stat as object).sort(), Object.keys(StatSchema.properties).sort(), 'and every stat field');
  return body;
}

t.test('getData, getChildren and exists answers match their response schemas', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.close());
  const z = `${s.url}/v1/znodes`;
  t.equal((await fetch(`${z}/app`, { method: 'POST', body: 'héllo' })).status, 201);
  t.equal((await fetch(`${z}/app/bin`, { method: 'POST', body: new Uint8Array([0xff, 0x00, 0xfe]) })).status, 201);
  const text = await check(t, `${z}/app`, DataResponse, ['path', 'data', 'encoding', 'stat']);
  t.same([text.data, text.encoding], ['héllo', 'utf8']);
  const bin = await check(t, `${z}/app/bin`, DataResponse, ['path', 'data', 'encoding', 'stat']);
  t.same([bin.data, bin.encoding], [Buffer.from([0xff, 0x00, 0xfe]).toString('base64'), 'base64']);
  const kids = await check(t, `${z}/app?children`, ChildrenResponse, ['path', 'children', 'stat']);
  t.same(kids.children, ['bin']);
  const st = await check(t, `${z}/app?stat`, PathStatResponse, ['path', 'stat']);
  t.equal((st.stat as { numChildren: number }).numChildren, 1);
  t.equal((st.stat as { czxid: unknown }).czxid, String((st.stat as { czxid: string }).czxid), 'zxids are decimal strings');
});
