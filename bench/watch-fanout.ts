// Watch fan-out bench: a zkgate server process and a separate client process holding N WebSockets (default 10,000),
// each watching its own node and one node watched by all. Measures write SEND → last event and write response →
// last event (p50/p99) for the all-watch node and for single-watcher nodes, and the server's RSS with 100,000
// persistent watches. Usage: node dist/bench/watch-fanout.js [connections] [fanoutWrites]
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, httpOk, rssMb, startChild, stopChild, waitUntil } from './procs.js';
import { Latencies } from './stats.js';
import type { FanoutSample } from './watch-fanout-clients.js';

export interface WatchBenchOptions {
  /** WebSocket connections (each watches its own node and the shared one). */
  connections?: number;
  /** Timed writes to the node all connections watch. */
  fanoutWrites?: number;
  /** Timed writes to single-watcher nodes. */
  singleWrites?: number;
  /** Persistent watches per connection in the memory phase (10 × 10,000 = 100,000). */
  watchesPerConnection?: number;
  log?: (line: string) => void;
}

export interface WatchBenchResult {
  connections: number;
  fanout: { writes: number; fromSendP50Ms: number; fromSendP99Ms: number; fromResponseP50Ms: number; fromResponseP99Ms: number };
  single: { writes: number; fromSendP50Ms: number; fromSendP99Ms: number; fromResponseP50Ms: number; fromResponseP99Ms: number };
  memory: { watches: number; rssBaselineMb: number; rssWithConnectionsMb: number; rssWithWatchesMb: number };
}

const here = fileURLToPath(new URL('.', import.meta.url));
const ZKGATE = join(here, '..', 'bin', 'zkgate.js');
const PREFIX = '/bench/w';
const HOT = '/bench/hot';

function ask(child: ChildProcess, msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: Record<string, unknown>) => {
      child.off('exit', onExit);
      if (m.ok === false) reject(new Error(`bench client: ${String(m.error)}`));
      else resolve(m);
    };
    const onExit = (code: number | null) => reject(new Error(`bench client exited (${code})`));
    child.once('message', onMsg);
    child.once('exit', onExit);
    child.send(msg);
  });
}

function summarize(samples: FanoutSample[]) {
  const send = new Latencies();
  const resp = new Latencies();
  for (const s of samples) {
    send.record(s.fromSendMs);
    resp.record(s.fromResponseMs);
  }
  const [s50, s99] = send.percentiles([50, 99]).map(round);
  const [r50, r99] = resp.percentiles([50, 99]).map(round);
  return { writes: samples.length, fromSendP50Ms: s50 as number, fromSendP99Ms: s99 as number, fromResponseP50Ms: r50 as number, fromResponseP99Ms: r99 as number };
}

const round = (n: number) => Math.round(n * 100) / 100;

async function multiCreate(url: string, paths: string[]): Promise<void> {
  for (let i = 0; i < paths.length; i += 1000) {
    const ops = paths.slice(i, i + 1000).map((path) => ({ op: 'create', path }));
    const r = await fetch(url + '/v1/multi', { method: 'POST', body: JSON.stringify({ ops }), headers: { 'content-type': 'application/json' } });
    if (!r.ok) throw new Error(`creating bench nodes: ${r.status} ${await r.text()}`);
  }
}

export async function runWatchBench(opts: WatchBenchOptions = {}): Promise<WatchBenchResult> {
  const n = opts.connections ?? 10_000;
  const perConn = opts.watchesPerConnection ?? 10;
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const dir = mkdtempSync(join(tmpdir(), 'zkgate-watch-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The per-IP and total connection limits are raised for the bench: every client comes from 127.0.0.1.
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [`dataDir=${join(dir, 'data')}`, `httpPort=${port}`, `wsMaxConnectionsPerIp=${n + 100}`, `wsMaxConnections=${n + 100}`, `wsMaxWatchesPerConnection=${perConn + 10}`].join('\n'),
  );
  const server = startChild('zkgate', process.execPath, [ZKGATE, 'server', '--config', join(dir, 'zoo.cfg'), '--log-level', 'warn']);
  let client: ChildProcess | undefined;
  try {
    await waitUntil(server, () => httpOk(url + '/v1/admin/ruok'), 20000);
    await multiCreate(url, ['/bench', PREFIX, HOT]);
    await multiCreate(url, Array.from({ length: n }, (_x, i) => `${PREFIX}/n${i}`));
    const rssBaselineMb = rssMb(server.pid);
    client = fork(join(here, 'watch-fanout-clients.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    log(`watch bench: opening ${n} WebSockets`);
    await ask(client, { cmd: 'open', url, connections: n, concurrency: 100 });
    await ask(client, { cmd: 'watch', hot: HOT, prefix: PREFIX, perConnection: 2 });
    const rssWithConnectionsMb = rssMb(server.pid);
    log(`watch bench: ${n} connections × 2 watches; timing writes`);
    const fanout = summarize((await ask(client, { cmd: 'fanout', path: HOT, writes: opts.fanoutWrites ?? 50 })).samples as FanoutSample[]);
    const single = summarize((await ask(client, { cmd: 'single', prefix: PREFIX, writes: opts.singleWrites ?? 500 })).samples as FanoutSample[]);
    log(`watch bench: adding watches up to ${perConn} per connection`);
    await ask(client, { cmd: 'watch', hot: HOT, prefix: PREFIX, perConnection: perConn });
    const wchs = (await (await fetch(url + '/v1/admin/wchs')).json()) as { numTotalWatches: number };
    const rssWithWatchesMb = rssMb(server.pid);
    return {
      connections: n,
      fanout,
      single,
      memory: { watches: wchs.numTotalWatches, rssBaselineMb: round(rssBaselineMb), rssWithConnectionsMb: round(rssWithConnectionsMb), rssWithWatchesMb: round(rssWithWatchesMb) },
    };
  } finally {
    if (client && client.exitCode === null) {
      await ask(client, { cmd: 'exit' }).catch(() => client?.kill('SIGKILL'));
    }
    await stopChild(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runWatchBench({ connections: Number(process.argv[2] ?? 10_000), fanoutWrites: Number(process.argv[3] ?? 50) });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
