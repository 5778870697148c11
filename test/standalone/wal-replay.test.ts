// A standalone node replays its write-ahead log beyond LMDB exactly once at start, refuses a log with a hole, and loses no write acknowledged just before a SIGKILL.
import t, { type Test } from 'tap';
import { readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../storage/store.js';
import { Wal } from '../../storage/wal.js';
import { walDir } from '../../server/data-dir.js';
import { OPEN_ACL_UNSAFE } from '../../server/tree/acl.js';
import type { Txn } from '../../server/tree/types.js';
import { freePort, spawnServer, startTestServer, tempDir, type ChildServer } from '../helpers/server.js';
import { Client, spawnUp } from './http.js';

// Up to eight server processes on a shared 2-core machine.
t.setTimeout(180000);

function dataDirFor(t: Test): string {
  const d = tempDir('zkgate-walreplay-');
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const ctx = { auth: [], session: '' };

function create(path: string, data: string, time: number, mode: 'PERSISTENT' | 'PERSISTENT_SEQUENTIAL' = 'PERSISTENT'): Txn {
  return { type: 'create', path, data: Buffer.from(data), acl: OPEN_ACL_UNSAFE, mode, ttlMs: 0, parents: false, time, ...ctx };
}

function set(path: string, data: string, version: number, time: number): Txn {
  return { type: 'set', path, data: Buffer.from(data), version, time, ...ctx };
}

/** LMDB's last zxid, read with the server stopped. */
async function storeZxid(dataDir: string): Promise<number> {
  const s = Store.open({ dataDir, walBacked: true });
  try {
    return s.lastZxid();
  } finally {
    await s.close();
  }
}

async function syncZxid(c: Client): Promise<number> {
  return Number((await c.call('POST', '/v1/sync')).body.zxid);
}

t.test('records in the log beyond LMDB are replayed at start, once, with their own zxids', async (t) => {
  const dataDir = dataDirFor(t);
  const first = await startTestServer({ dataDir });
  const a = new Client(first.url);
  t.equal((await a.create('/r', 'root')).status, 201);
  t.equal((await a.create('/r/a', 'a0')).status, 201);
  t.equal((await a.create('/r/q-', 'q', 'sequential')).body.path, '/r/q-0000000001');
  const z = await syncZxid(a);
  await first.close();
  t.equal(await storeZxid(dataDir), z, 'a clean stop leaves LMDB at the last zxid');

  // What a crash between the log's flush and LMDB's would leave: records only the log has.
  const T = 1_700_000_000_000;
  const extra: Txn[] = [
    create('/r/c', 'c', T),
    set('/r/a', 'a1', 0, T + 1),
    create('/r/c/d', 'd', T + 2),
    create('/r/q-', 'q2', T + 3, 'PERSISTENT_SEQUENTIAL'),
    // Fails (the node exists) but still takes its zxid, as ZooKeeper's error transactions do.
    create('/r/c', 'dup', T + 4),
    set('/r/c/d', 'd1', 0, T + 5),
  ];
  const wal = Wal.open<Txn>(walDir(dataDir));
  // LMDB was flushed at the stop, so the log was retired: the next start has nothing to scan.
  t.equal(wal.lastZxid, 0, 'a clean stop retires the log');
  t.equal(wal.segmentCount, 0, 'no segment is left after a clean stop');
  await wal.append(extra.map((value, i) => ({ zxid: z + 1 + i, value })));
  await wal.close();
  const last = z + extra.length;

  const second = await startTestServer({ dataDir });
  const b = new Client(second.url);
  const c = await b.get('/r/c');
  t.equal(c.body.data, 'c');
  t.same([c.body.stat.czxid, c.body.stat.mzxid, c.body.stat.ctime], [String(z + 1), String(z + 1), T], '/r/c has the zxid and time of its record');
  t.equal(c.body.stat.pzxid, String(z + 3), 'and its child’s create as pzxid');
  const ra = await b.get('/r/a');
  t.same([ra.body.data, ra.body.stat.version, ra.body.stat.mzxid, ra.body.stat.mtime], ['a1', 1, String(z + 2), T + 1], '/r/a was set once, at its record');
  const d = await b.get('/r/c/d');
  t.same([d.body.data, d.body.stat.czxid, d.body.stat.mzxid, d.body.stat.version], ['d1', String(z + 3), String(last), 1]);
  t.same((await b.children('/r')).body.children, ['a', 'c', 'q-0000000001', 'q-0000000003'], 'the sequential name follows the parent’s cversion');
  t.equal((await b.get('/r/q-0000000003')).body.stat.czxid, String(z + 4));
  t.equal(await syncZxid(b), last, 'the node is at the log’s last zxid (the failed create included)');
  const after = await b.create('/r/after', 'x');
  t.equal(after.body.stat.czxid, String(last + 1), 'the next write takes the next zxid');
  await second.close();

  // A second start must not apply the records again: a repeated set would show as version 2.
  const third = await startTestServer({ dataDir });
  t.teardown(() => third.destroy());
  const c3 = new Client(third.url);
  t.equal((await c3.get('/r/a')).body.stat.version, 1, 'not replayed twice');
  t.equal((await c3.get('/r/c/d')).body.stat.version, 1);
  t.equal((await c3.get('/r/after')).body.stat.czxid, String(last + 1));
  t.equal(await syncZxid(c3), last + 1);
  t.equal((await c3.create('/r/after2')).body.stat.czxid, String(last + 2));
});

t.test('a log with a hole after LMDB’s last zxid stops the start, leaving the store as it was', async (t) => {
  const dataDir = dataDirFor(t);
  const first = await startTestServer({ dataDir });
  const a = new Client(first.url);
  await a.create('/h', 'kept');
  const z = await syncZxid(a);
  await first.close();

  // The record after z is lost; the two after that are in the log.
  const wal = Wal.open<Txn>(walDir(dataDir));
  await wal.append([
    { zxid: z + 2, value: create('/h/x', 'x', 1) },
    { zxid: z + 3, value: create('/h/y', 'y', 2) },
  ]);
  await wal.close();

  const s = await spawnServer(['--data-dir', dataDir, '--http-port', String(await freePort()), '--log-level', 'warn']);
  t.teardown(() => {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  });
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([s.exited, new Promise<'running'>((r) => (timer = setTimeout(() => r('running'), 20000)))]);
  clearTimeout(timer);
  t.not(exit, 'running', 'the server does not keep running');
  if (exit !== 'running') {
    t.equal(exit.signal, null);
    t.ok(exit.code !== null && exit.code !== 0, `exits non-zero (${exit.code})`);
  }
  t.match(s.stderr(), `missing zxids ${z + 1}..${z + 1}`, 'and says which zxids are missing');
  t.equal(await storeZxid(dataDir), z, 'LMDB was not moved past the hole');

  // In-process too: startServer rejects with the same error, nothing is served.
  await t.rejects(startTestServer({ dataDir }), new RegExp(`missing zxids ${z + 1}\\.\\.${z + 1}`));
  const store = Store.open({ dataDir, walBacked: true });
  t.equal(store.getNode('/h/x'), undefined, 'no record past the hole was applied');
  t.equal(Buffer.from(store.getNode('/h')?.data ?? []).toString(), 'kept');
  await store.close();
});

t.test('a log whose first segment starts past LMDB’s next zxid is refused', async (t) => {
  const dataDir = dataDirFor(t);
  const first = await startTestServer({ dataDir });
  const a = new Client(first.url);
  await a.create('/g', 'kept');
  const z = await syncZxid(a);
  await first.close();
  // Every segment lost, and a later one in their place.
  for (const f of readdirSync(walDir(dataDir))) unlinkSync(join(walDir(dataDir), f));
  const wal = Wal.open<Txn>(walDir(dataDir));
  await wal.append([{ zxid: z + 5, value: create('/g/x', 'x', 1) }]);
  await wal.close();
  await t.rejects(startTestServer({ dataDir }), new RegExp(`missing zxids ${z + 1}\\.\\.${z + 4} \\(store is at ${z}\\)`));
  t.equal(await storeZxid(dataDir), z);
});

// ---- crash right after a burst of acknowledgements ----

const BURST = 48;
const ROUNDS = 3;

async function spawnOn(t: Test, dataDir: string): Promise<ChildServer> {
  const s = await spawnUp(['--data-dir', dataDir, '--http-port', String(await freePort()), '--log-level', 'warn']);
  t.teardown(() => {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  });
  return s;
}

t.test('SIGKILL the moment a burst’s last write is acknowledged: every acknowledged write survives', async (t) => {
  const dataDir = dataDirFor(t);
  /** Everything acknowledged, over all rounds: create path → data, set target → {data, version}. */
  const creates = new Map<string, string>();
  const sets = new Map<string, { data: string; version: number }>();
  let needingReplay = 0;
  let server = await spawnOn(t, dataDir);
  const setup = new Client(server.url);
  t.equal((await setup.create('/crash')).status, 201);
  const made = await Promise.all(Array.from({ length: BURST }, (_, i) => setup.create(`/crash/s${i}`, 'init')));
  t.ok(made.every((r) => r.status === 201), `${BURST} set targets created`);

  for (let round = 0; round < ROUNDS; round++) {
    const zk = new Client(server.url);
    // Warm-up bursts, then the one the kill follows.
    for (let b = 0; b < 3; b++) {
      const pad = 'p'.repeat(2048);
      const burst = [];
      for (let i = 0; i < BURST; i++) {
        const path = `/crash/r${round}b${b}n${i}`;
        const data = `${path}:${pad}`;
        burst.push(
          zk.create(path, data).then((r) => {
            if (r.status === 201) creates.set(path, data);
            return r.status;
          }),
        );
        const value = `r${round}b${b}:${pad}`;
        burst.push(
          zk.set(`/crash/s${i}`, value).then((r) => {
            if (r.status === 200) sets.set(`/crash/s${i}`, { data: value, version: r.body.stat.version });
            return r.status;
          }),
        );
      }
      const statuses = await Promise.all(burst);
      if (b === 2) server.proc.kill('SIGKILL');
      t.same(statuses.filter((s) => s !== 200 && s !== 201), [], `round ${round} burst ${b}: all ${burst.length} writes acknowledged`);
    }
    t.equal((await server.exited).signal, 'SIGKILL');

    // How much the restart has to take from the log: acknowledged writes LMDB had not committed at the kill.
    const lmdb = await storeZxid(dataDir);
    const wal = Wal.open<Txn>(walDir(dataDir));
    const logged = wal.lastZxid;
    await wal.close();
    t.ok(logged >= lmdb, `round ${round}: LMDB at ${lmdb}, log at ${logged}`);
    if (logged > lmdb) needingReplay++;

    server = await spawnOn(t, dataDir);
    const after = new Client(server.url);
    t.equal((await after.call('GET', '/v1/admin/ruok')).status, 200, `round ${round}: the server came back`);
    t.ok((await syncZxid(after)) >= logged, 'at least at the log’s last zxid');
    const kids = new Set((await after.children('/crash')).body.children);
    const missing = [...creates.keys()].filter((p) => !kids.has(p.slice('/crash/'.length)));
    t.same(missing, [], `round ${round}: all ${creates.size} acknowledged creates exist`);
    let wrong = 0;
    for (const [path, data] of creates) {
      if (!path.startsWith(`/crash/r${round}`)) continue;
      if ((await after.get(path)).body.data !== data) wrong++;
    }
    t.equal(wrong, 0, `round ${round}: with their data`);
    const stale: string[] = [];
    for (const [path, want] of sets) {
      const g = await after.get(path);
      if (g.body.data !== want.data || g.body.stat.version !== want.version) stale.push(`${path}: want v${want.version}, got v${g.body.stat?.version}`);
    }
    t.same(stale, [], `round ${round}: every set target holds its last acknowledged value and version`);
    t.equal((await after.create(`/crash/after${round}`)).status, 201, 'and the restarted server takes writes');
    creates.set(`/crash/after${round}`, '');
  }
  t.comment(`${needingReplay} of ${ROUNDS} kills left acknowledged writes only in the log`);

  server.proc.kill('SIGTERM');
  t.equal((await server.exited).code, 0, 'the last server stops cleanly');
});
