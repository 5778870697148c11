// setACL answers with the ACL its own transaction set, beside that transaction's stat: not a read of the node after
// the write resolved, which shows a later write of the same group commit (another setACL, or a delete as NoNode).
import t from 'tap';
import { request, Agent } from 'node:http';
import { startTestServer } from '../helpers/server.js';

t.test('concurrent setACLs and deletes: each answer shows what its own write set', async (t) => {
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  t.teardown(() => agent.destroy());
  const send = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const r = request(`${s.url}${path}`, { method, agent, headers }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      });
      r.on('error', reject);
      r.end(body);
    });
  const json = { 'content-type': 'application/json' };
  const open = [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }];
  const narrow = [{ scheme: 'world', id: 'anyone', perms: 'r' }, { scheme: 'ip', id: '127.0.0.1', perms: 'cdrwa' }];
  // Other writes keep the group commits full, so the racing writes land in one batch.
  let stop = false;
  const load = Array.from({ length: 8 }, async (_, i) => {
    await send('POST', `/v1/znodes/bg${i}`, '');
    while (!stop) await send('PUT', `/v1/znodes/bg${i}`, 'x');
  });
  let bothApplied = 0;
  for (let i = 0; i < 40; i++) {
    await send('POST', `/v1/znodes/n${i}`, '');
    const [a, b] = await Promise.all([
      send('PUT', `/v1/acl/n${i}`, JSON.stringify({ acl: open }), { ...json, 'if-match': '0' }),
      send('PUT', `/v1/acl/n${i}`, JSON.stringify({ acl: narrow }), { ...json, 'if-match': '1' }),
    ]);
    t.equal(a.status, 200, `round ${i}: the setACL at aversion 0 is applied`);
    t.match(JSON.parse(a.body), { acl: open, stat: { aversion: 1 } }, `round ${i}: its answer shows its own ACL`);
    if (b.status === 200) {
      bothApplied++;
      t.match(JSON.parse(b.body), { acl: narrow, stat: { aversion: 2 } }, `round ${i}: and the other's its own`);
    } else t.equal(b.status, 412, `round ${i}: the one at aversion 1 failed only for its version`);
    await send('POST', `/v1/znodes/d${i}`, '');
    const [c, d] = await Promise.all([send('PUT', `/v1/acl/d${i}`, JSON.stringify({ acl: open }), { ...json, 'if-match': '0' }), send('DELETE', `/v1/znodes/d${i}`)]);
    t.equal(d.status, 204, `round ${i}: the delete is applied`);
    if (c.status === 200) t.match(JSON.parse(c.body), { acl: open, stat: { aversion: 1 } }, `round ${i}: a setACL applied before the delete says so`);
    else t.match(JSON.parse(c.body), { error: 'NoNode' }, `round ${i}: or NoNode when the delete came first`);
  }
  stop = true;
  await Promise.all(load);
  t.ok(bothApplied > 0, `the two setACLs were both applied in ${bothApplied} of 40 rounds`);
});
