// The audit log (audit.enable=true, auditLogFile): one JSON line per state-changing request, ZooKeeper's operation
// and field names, who (session, authenticated ids, address), what, and the result; nothing for reads; the
// ephemerals a closed session took with it; serverStart and serverStop.
import t from 'tap';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, tempDir } from '../helpers/server.js';
import { Client, basic } from '../standalone/http.js';

interface Entry {
  time: string;
  operation: string;
  result: string;
  session?: string;
  user?: string;
  ip?: string;
  znode?: string;
  znode_type?: string;
  acl?: string;
}

t.test('audit.enable: who changed what, and whether it worked', async (t) => {
  const logDir = tempDir('zkgate-audit-');
  t.teardown(() => rmSync(logDir, { recursive: true, force: true }));
  const file = join(logDir, 'audit.log');
  const s = await startTestServer({ auditEnable: true, auditLogFile: file });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await s.destroy();
  });
  const anon = new Client(s.url);
  const alice = anon.with(basic('alice', 'secret'));
  t.equal((await alice.create('/audited', 'v')).status, 201, 'a create (fast path) by a digest user');
  t.equal((await anon.create('/audited/job-', 'j', 'sequential')).status, 201, 'a sequential create');
  t.equal((await anon.set('/audited', 'v2')).status, 200, 'a set');
  t.equal((await anon.get('/audited')).status, 200, 'a read, which is not audited');
  t.equal((await anon.delete('/missing')).status, 404, 'a delete that fails');
  t.equal((await anon.setAcl('/audited', [{ scheme: 'world', id: 'anyone', perms: 'rw' }])).status, 200, 'a setAcl');
  t.equal((await anon.multi([{ op: 'create', path: '/m1', data: '' }, { op: 'create', path: '/m2', data: '' }])).status, 200, 'a multi');
  const sid = await anon.session(10000);
  t.equal((await anon.create('/eph', '', 'ephemeral', { 'zk-session': sid })).status, 201, 'an ephemeral');
  t.equal((await anon.call('DELETE', `/v1/sessions/${sid}`)).status, 204, 'its session closed');
  await s.destroy();
  stopped = true;

  const entries = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Entry);
  const ops = entries.map((e) => e.operation);
  t.same(ops, ['serverStart', 'create', 'create', 'setData', 'delete', 'setAcl', 'multiOperation', 'create', 'ephemeralZNodeDeletionOnSessionCloseOrExpire', 'serverStop'], 'every change in order, no read, start and stop');
  const [, create, seq, set, del, acl, multi, eph, gone] = entries;
  t.match(create, { user: '127.0.0.1,alice', ip: '127.0.0.1', session: '0', znode: '/audited', znode_type: 'persistent', result: 'success' }, 'who (the address and the digest user, as ZooKeeper names them), what, the result');
  t.match(create?.acl, /^world:anyone:cdrwa$/, "the new node's ACL");
  t.match(seq, { znode: /^\/audited\/job-\d{10}$/, znode_type: 'persistent_sequential', user: '127.0.0.1' }, 'a sequential create names the node it made');
  t.match(set, { znode: '/audited', result: 'success' });
  t.match(del, { znode: '/missing', result: 'failure' }, 'a failed delete is audited as a failure');
  t.match(acl, { znode: '/audited', acl: 'world:anyone:rw', result: 'success' });
  t.match(multi, { znode: '/m1,/m2', result: 'success' }, 'one entry for the multi, naming its paths');
  t.match(eph, { session: sid, znode_type: 'ephemeral' });
  t.match(gone, { session: sid, znode: '/eph', result: 'success' }, 'the ephemerals a closed session took with it');
  t.ok(entries.every((e) => !Number.isNaN(Date.parse(e.time))), 'each entry has its time');
});

t.test('an audit log file that cannot be written is an error at start, naming the key', async (t) => {
  const d = tempDir('zkgate-audit-bad-');
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const notADir = join(d, 'a-file');
  writeFileSync(notADir, 'x');
  await t.rejects(startTestServer({ auditEnable: true, auditLogFile: join(notADir, 'audit.log'), dataDir: join(d, 'data') }), { key: 'auditLogFile', message: /auditLogFile: cannot write .*a-file\/audit\.log/ });
});
