// An ensemble started from data it did not write itself: a snapshot restored into every member (the documented
// backup/restore, docs/operations.md §8), and one member given data the others lack.
import t from 'tap';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startEnsemble, type Ensemble } from '../helpers/ensemble.js';
import { emptyDataDir, freePort, tempDir } from '../helpers/server.js';
import { startNode, zk } from '../cli/run.js';
import { req, retry } from './client.js';
import { converge } from './faults.js';

/** A snapshot of a standalone server holding /k1, /k2, /k3; its zxid. */
async function standaloneSnapshot(t: { teardown(fn: () => unknown): void }): Promise<{ file: string; zxid: number }> {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startNode(['--http-port', String(await freePort()), '--data-dir', join(dir, 'data'), '--log-level', 'warn']);
  for (const k of ['k1', 'k2', 'k3']) await fetch(`${server.url}/v1/znodes/${k}`, { method: 'POST', body: k });
  const file = join(dir, 'backup.snapshot');
  const snap = await zk(['snapshot', '--out', file, '--url', server.url]);
  server.proc.kill('SIGTERM');
  await server.exited;
  const zxid = Number(/at zxid (\d+)/.exec(snap.stdout)?.[1]);
  return { file, zxid };
}

/** Empties member `id`'s dataDir but its myid and restores `file` into it (restore writes only into an empty dir). */
async function restoreInto(t: { teardown(fn: () => unknown): void }, ens: Ensemble, id: number, file: string): Promise<void> {
  const dir = ens.node(id).dataDir;
  emptyDataDir(dir);
  const aside = tempDir();
  t.teardown(() => rmSync(aside, { recursive: true, force: true }));
  const r = await zk(['restore', '--in', file, '--data-dir', join(aside, 'd')]);
  if (r.code !== 0) throw new Error(r.stderr);
  cpSync(join(aside, 'd'), dir, { recursive: true });
}

t.test('a snapshot restored into every member: the ensemble serves it and goes on from its zxid', async (t) => {
  const { file, zxid } = await standaloneSnapshot(t);
  t.ok(zxid > 0, `the snapshot is at zxid ${zxid}`);
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  for (const id of [1, 2, 3]) await ens.kill(id);
  for (const id of [1, 2, 3]) await restoreInto(t, ens, id, file);
  for (const id of [1, 2, 3]) await ens.start(id);
  const leader = await ens.waitForLeader();
  const w = await req(`${ens.node(leader).url}/v1/znodes/after`, 'POST', 'a');
  t.equal(w.status, 201, 'it takes writes');
  t.ok(Number(w.headers.get('zk-zxid')) > zxid, `at zxid ${w.headers.get('zk-zxid')}, after the snapshot's ${zxid}`);
  for (const id of [1, 2, 3]) {
    const r = await retry(() => req(`${ens.node(id).url}/v1/znodes/?children`, 'GET', undefined, { 'ZK-Min-Zxid': w.headers.get('zk-zxid') ?? '0' }), (x) => x.status !== 503, 20000);
    t.same(r.body.children, ['after', 'k1', 'k2', 'k3', 'zookeeper'], `member ${id} has the restored tree and the new write`);
  }
});

t.test('one member given data the others lack: it refuses their leader and says why, nobody crashes', async (t) => {
  const { file } = await standaloneSnapshot(t);
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  for (const id of [1, 2, 3]) await ens.kill(id);
  for (const id of [1, 2, 3]) emptyDataDir(ens.node(id).dataDir);
  await restoreInto(t, ens, 1, file);
  for (const id of [2, 3]) await ens.start(id);
  const leader = await ens.waitForLeader(30000, [2, 3]);
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/fresh`, 'POST', 'f')).status, 201, 'the two empty members elect a leader and take writes');
  await ens.start(1);
  const said = await retry(async () => ens.node(1).child?.stdout() ?? '', (s) => s.includes('refusing to follow member'), 20000);
  t.match(said, new RegExp(`refusing to follow member ${leader} \\(term \\d+\\): its log (ends at zxid \\d+, below|disagrees with) zxid \\d+ that this member holds as committed`), 'member 1 refuses the leader and says why');
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/more`, 'POST', 'm')).status, 201, 'the leader goes on taking writes');
  for (const id of [1, 2, 3]) t.equal(ens.node(id).child?.proc.exitCode, null, `member ${id} still runs`);
  t.equal((await req(`${ens.node(1).url}/v1/admin/srvr`)).body.mode, 'looking', 'member 1 follows no one');
  t.match((await req(`${ens.node(1).url}/v1/admin/cluster`)).body.leaderRefusal, /^refusing to follow member \d+ \(term \d+\)/, 'its cluster view says why');
  t.match((await zk(['status', '--url', ens.node(1).url])).stdout, /\nLeader refused: refusing to follow member/, 'and so does zkgate status');
  t.equal((await req(`${ens.node(leader).url}/v1/admin/cluster`)).body.leaderRefusal, null, "the leader's does not");
});

t.test('one member given data the others lack while the ensemble takes no writes: it refuses their leader all the same', async (t) => {
  const { file, zxid } = await standaloneSnapshot(t);
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/theirs`, 'POST', 't')).status, 201);
  await converge(ens, '/');
  const member = [1, 2, 3].find((id) => id !== leader) as number;
  await ens.kill(member);
  await restoreInto(t, ens, member, file);
  await ens.start(member);
  // No write from here on: only heartbeats reach the member.
  const view = await retry(async () => (await req(`${ens.node(member).url}/v1/admin/cluster`)).body as { leaderRefusal: string | null }, (v) => typeof v.leaderRefusal === 'string', 20000);
  t.match(view.leaderRefusal, /^refusing to follow member \d+ \(term \d+\): its log/, `member ${member} (restored at zxid ${zxid}) refuses the leader without a write to show the difference`);
  const r = await req(`${ens.node(member).url}/v1/znodes/k1`);
  t.equal(r.status, 503, 'and serves none of its foreign data');
  t.not((await zk(['status', '--url', ens.node(member).url])).code, 0, 'zkgate status does not call it healthy');
});
