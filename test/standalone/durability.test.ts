// Durability across a clean restart: every acknowledged write is on disk, and zxids continue without reuse.
import t from 'tap';
import { rmSync } from 'node:fs';
import { startTestServer, tempDir } from '../helpers/server.js';
import { Client, basic, digest } from './http.js';

t.test('acknowledged writes are all there after closing and reopening the dataDir', async (t) => {
  const dataDir = tempDir();
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startTestServer({ dataDir });
  const a = new Client(first.url);
  await a.create('/d', 'root');
  for (let i = 0; i < 20; i++) await a.create(`/d/n${i}`, `v${i}`);
  for (let i = 0; i < 20; i += 2) await a.set(`/d/n${i}`, `v${i}-set`);
  for (let i = 1; i < 20; i += 4) await a.delete(`/d/n${i}`);
  await a.create('/d/q-', Buffer.from([0xff, 1]), 'sequential');
  await a.multi([
    { op: 'create', path: '/d/m1', data: 'm' },
    { op: 'set', path: '/d/n0', data: 'multi' },
  ]);
  await a.setAcl('/d/n2', [{ scheme: 'digest', id: digest('bob', 'pw'), perms: 'cdrwa' }]);
  const lastZxid = BigInt((await a.call('POST', '/v1/sync')).body.zxid);
  const before = await snapshot(a);
  await first.close();

  const second = await startTestServer({ dataDir });
  t.teardown(() => second.close());
  const b = new Client(second.url);
  t.equal(BigInt((await b.call('POST', '/v1/sync')).body.zxid), lastZxid, 'the last zxid is where it was');
  t.same(await snapshot(b), before, 'same tree, data and stats');
  t.equal((await b.with(basic('bob', 'pw')).get('/d/n2')).body.data, 'v2-set', 'ACLs persisted');
  t.equal((await b.get('/d/n2')).status, 403);
  const c = await b.create('/d/after');
  t.equal(BigInt(c.body.stat.czxid), lastZxid + 1n, 'the next write takes the next zxid, none reused');
  t.equal((await b.create('/d/q-', '', 'sequential')).body.path, '/d/q-0000000023', 'the sequence counter persisted');
});

/** Every node under /d with its data and stat, as the API reports them. */
async function snapshot(c: Client): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const names = (await c.children('/d')).body.children;
  out['/d'] = (await c.get('/d')).body;
  for (const n of names) {
    const r = await c.get(`/d/${n}`, '', basic('bob', 'pw'));
    out[`/d/${n}`] = r.body;
  }
  return out;
}
