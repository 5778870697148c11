// ZooKeeper load with the pure-JS node-zookeeper-client: one connection (session) per simulated client,
// each closed-loop with one request outstanding — the same shape as autocannon's connections against zkgate.
import zookeeper, { type Client, type Exception } from 'node-zookeeper-client';
import { CREATE_PARENT, HOT_NODES, HOT_PARENT, value, type LoadShape } from './http-load.js';
import { cpuMeter, Latencies, type PhaseResult } from './stats.js';
import { zkFsyncCounters } from './zookeeper.js';

export type ZkPhase = 'create' | 'set' | 'get' | 'mix';

/** NodeExists: the setup is idempotent across repeated runs against one server. */
const NODE_EXISTS = -110;

function connectOne(connect: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = zookeeper.createClient(connect, { sessionTimeout: 30000, retries: 0 });
    const t = setTimeout(() => reject(new Error(`no ZooKeeper session from ${connect} within 10 s`)), 10000);
    c.once('connected', () => {
      clearTimeout(t);
      resolve(c);
    });
    c.connect();
  });
}

export async function connectClients(connect: string, n: number): Promise<Client[]> {
  const out: Client[] = [];
  try {
    for (let i = 0; i < n; i++) out.push(await connectOne(connect));
  } catch (e) {
    // Sessions already open would otherwise keep reconnecting and hold the bench process up.
    closeClients(out);
    throw e;
  }
  return out;
}

export function closeClients(clients: Client[]): void {
  for (const c of clients) c.close();
}

function call<T>(f: (cb: (err: Exception | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
}

/** /bench/hot/n0..n999 with the value, and /bench/c for creates. */
export async function prepareZk(c: Client, valueBytes: number): Promise<void> {
  await call<string>((cb) => c.mkdirp(HOT_PARENT, cb));
  await call<string>((cb) => c.mkdirp(CREATE_PARENT, cb));
  const v = value(valueBytes);
  await Promise.all(
    Array.from({ length: HOT_NODES }, (_, i) =>
      call<string>((cb) => c.create(`${HOT_PARENT}/n${i}`, v, cb)).catch((e: Exception) => {
        if (e.getCode() !== NODE_EXISTS) throw e;
      }),
    ),
  );
}

function runLoop(clients: Client[], phase: ZkPhase, durationS: number, valueBytes: number, tag: string, lat: Latencies | null) {
  const v = value(valueBytes);
  const end = performance.now() + durationS * 1000;
  let n = 0;
  let ok = 0;
  let errors = 0;
  const one = (c: Client, done: () => void): void => {
    if (performance.now() >= end) return done();
    const i = n++;
    const t0 = performance.now();
    const cb = (err: Exception | null) => {
      if (err) errors++;
      else {
        ok++;
        lat?.record(performance.now() - t0);
      }
      one(c, done);
    };
    const hot = `${HOT_PARENT}/n${i % HOT_NODES}`;
    switch (phase) {
      case 'create':
        return c.create(`${CREATE_PARENT}/${tag}-${i}`, v, cb);
      case 'set':
        return c.setData(hot, v, -1, cb);
      case 'get':
        return c.getData(hot, cb);
      case 'mix':
        return i % 10 === 9 ? c.setData(`${HOT_PARENT}/n${(i * 7) % HOT_NODES}`, v, -1, cb) : c.getData(hot, cb);
    }
  };
  return Promise.all(clients.map((c) => new Promise<void>((r) => one(c, r)))).then(() => ({ ok, errors }));
}

export async function runZkPhase(clients: Client[], phase: ZkPhase, shape: LoadShape, serverCpu: () => number, zkPort: number): Promise<PhaseResult> {
  const tag = `${phase}-${process.pid}-${Date.now().toString(36)}`;
  if (shape.warmupS > 0) await runLoop(clients, phase, shape.warmupS, shape.valueBytes, tag + 'w', null);
  const f0 = await zkFsyncCounters(zkPort);
  const lat = new Latencies();
  const meter = cpuMeter(serverCpu);
  const r = await runLoop(clients, phase, shape.durationS, shape.valueBytes, tag, lat);
  const cpu = meter();
  const f1 = await zkFsyncCounters(zkPort);
  const commits = f1.count - f0.count;
  const [p50, p99] = lat.percentiles([50, 99]);
  return {
    system: 'zookeeper',
    phase,
    client: 'node-zookeeper-client',
    connections: clients.length,
    durationS: cpu.wallS,
    ok: r.ok,
    errors: r.errors,
    opsPerS: r.ok / cpu.wallS,
    p50Ms: p50 as number,
    p99Ms: p99 as number,
    serverCores: cpu.serverCores,
    loadgenCores: cpu.loadgenCores,
    ...(Number.isFinite(commits) && commits > 0 ? { commits, commitMsMean: (f1.sumMs - f0.sumMs) / commits } : {}),
  };
}
