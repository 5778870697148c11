// Crash durability: a child-process server under 16 concurrent writers is SIGKILLed at a random moment;
// after a restart on the same dataDir every write acknowledged before the kill is there. Three rounds, each
// writing to the server that the previous round restarted, so recovery is itself crashed and recovered.
import t from 'tap';
import { rmSync } from 'node:fs';
import { freePort, tempDir, type ChildServer } from '../helpers/server.js';
import { Client, sleep, spawnUp } from './http.js';

const CLIENTS = 16;
const ROUNDS = 3;
// Six process starts under a shared 2-core machine: allow more than tap's default per-file budget.
t.setTimeout(240000);
const dataDir = tempDir('zkgate-kill9-');
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(): Promise<ChildServer> {
  const s = await spawnUp(['--data-dir', dataDir, '--http-port', String(await freePort()), '--log-level', 'warn']);
  t.teardown(() => {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  });
  return s;
}

interface Acked {
  creates: string[];
  /** Per set target: the last value acknowledged and the version it was given. */
  sets: Map<string, { value: number; version: number }>;
}

/** One writer: alternately creates a fresh node and sets its own node to a rising counter, until stopped. */
async function writer(zk: Client, round: number, id: number, acked: Acked, stopped: () => boolean): Promise<void> {
  const target = `/k${round}/s${id}`;
  for (let n = 1; !stopped() && n < 100000; n++) {
    try {
      const path = `/k${round}/c${id}-${n}`;
      const c = await zk.create(path, String(n));
      if (c.status === 201) acked.creates.push(path);
      const s = await zk.set(target, String(n));
      if (s.status === 200) acked.sets.set(target, { value: n, version: s.body.stat.version });
    } catch {
      return; // the server is gone: nothing more is acknowledged
    }
  }
}

let server = await start();
for (let round = 0; round < ROUNDS; round++) {
  t.test(`round ${round}: every write acknowledged before SIGKILL survives the restart`, async (t) => {
    const zk = new Client(server.url);
    t.equal((await zk.create(`/k${round}`)).status, 201);
    for (let i = 0; i < CLIENTS; i++) t.equal((await zk.create(`/k${round}/s${i}`, '0')).status, 201);
    const acked: Acked = { creates: [], sets: new Map() };
    let killed = false;
    const writers = Array.from({ length: CLIENTS }, (_, i) => writer(zk, round, i, acked, () => killed));
    // Kill at a random moment once the writers are under way (a loaded machine may take a while to get there).
    for (const until = Date.now() + 30000; acked.creates.length < CLIENTS && Date.now() < until; ) await sleep(10);
    const delayMs = Math.floor(Math.random() * 600);
    await sleep(delayMs);
    // Freeze the record first, then pull the plug: every write counted was acknowledged before the kill.
    const creates = [...acked.creates];
    const sets = new Map(acked.sets);
    server.proc.kill('SIGKILL');
    killed = true;
    t.equal((await server.exited).signal, 'SIGKILL');
    await Promise.all(writers);
    t.ok(creates.length >= CLIENTS, `${creates.length} creates and ${sets.size} sets acknowledged, killed ${delayMs} ms after the first ${CLIENTS}`);

    server = await start();
    const zk2 = new Client(server.url);
    const kids = new Set((await zk2.children(`/k${round}`)).body.children.map((n) => `/k${round}/${n}`));
    t.same(creates.filter((p) => !kids.has(p)), [], 'every acknowledged create exists');
    for (const [path, last] of sets) {
      const g = await zk2.get(path);
      const ok = g.status === 200 && Number(g.body.data) >= last.value && g.body.stat.version >= last.version;
      if (!ok) t.fail(`${path}: acked ${last.value}@v${last.version}, found ${g.body.data}@v${g.body.stat?.version}`);
    }
    t.pass(`${sets.size} set targets are at least as new as their last acknowledged value`);
    for (let r = 0; r < round; r++) t.equal((await zk2.stat(`/k${r}/after-restart`)).status, 200, `round ${r}'s post-restart write is still there`);
    t.equal((await zk2.create(`/k${round}/after-restart`)).status, 201, 'the restarted server takes writes');
  });
}

t.test('the last restarted server shuts down cleanly', async (t) => {
  server.proc.kill('SIGTERM');
  t.equal((await server.exited).code, 0);
});
