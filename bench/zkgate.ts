// zkgate as the benchmark's child process: `node dist/bundle/zkgate.js server` on a free port with its own data dir,
// optionally under --cpu-prof; plus the HTTP calls that lay out the benchmark's tree.
import { currentBundle } from '../bin/bundled.js';
import { SERVER_NODE_FLAGS } from '../server/node-flags.js';
import { freePort, httpOk, startChild, waitUntil, type Child } from './procs.js';
import { CREATE_PARENT, HOT_NODES, HOT_PARENT, value } from './http-load.js';

/** How long a zkgate child may take to answer: generous, as start-up on a loaded 2-core machine took up to 30 s. */
export const START_TIMEOUT_MS = 120_000;

/** The bundled command (bin/bundle.ts), as users run it; refused when older than what tsc compiled since. */
export const ZKGATE_BIN = currentBundle();

export interface ZkgateServer {
  child: Child;
  url: string;
  port: number;
}

export interface ZkgateOptions {
  dataDir: string;
  /** Write a V8 CPU profile of the server into this directory when it exits. */
  cpuProfDir?: string;
  port?: number;
}

export function spawnZkgate(o: ZkgateOptions, port: number): Child {
  const nodeFlags = [...SERVER_NODE_FLAGS, ...(o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfDir] : [])];
  return startChild('zkgate', process.execPath, [
    ...nodeFlags,
    ZKGATE_BIN,
    'server',
    '--data-dir',
    o.dataDir,
    '--http-port',
    String(port),
    '--host',
    '127.0.0.1',
    '--log-level',
    'warn',
  ]);
}

export async function startZkgate(o: ZkgateOptions): Promise<ZkgateServer> {
  const port = o.port ?? (await freePort());
  const child = spawnZkgate(o, port);
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(child, () => httpOk(`${url}/v1/admin/ruok`), START_TIMEOUT_MS);
  return { child, url, port };
}

async function createEmpty(url: string): Promise<void> {
  const r = await fetch(url, { method: 'POST', body: '', headers: { 'content-type': 'application/octet-stream' } });
  const text = await r.text();
  if (r.status !== 201 && r.status !== 409) throw new Error(`POST ${url}: ${r.status} ${text}`);
}

/** /bench/hot/n0..n999 holding the value, and /bench/c for creates (idempotent). */
export async function prepareZkgate(url: string, valueBytes: number): Promise<void> {
  for (const p of ['/bench', HOT_PARENT, CREATE_PARENT]) await createEmpty(`${url}/v1/znodes${p}`);
  const data = value(valueBytes).toString('utf8');
  const ops = Array.from({ length: HOT_NODES }, (_, i) => ({ op: 'create', path: `${HOT_PARENT}/n${i}`, data }));
  const r = await fetch(`${url}/v1/multi`, { method: 'POST', body: JSON.stringify({ ops }), headers: { 'content-type': 'application/json' } });
  await r.text();
  if (r.status !== 200 && r.status !== 409) throw new Error(`creating the hot nodes: ${r.status}`);
}

/** The exact bytes zkgate answers a getData of a hot node with, for the bare baseline to serve. */
export async function sampleGetBody(url: string): Promise<Buffer> {
  const r = await fetch(`${url}/v1/znodes${HOT_PARENT}/n0`);
  if (!r.ok) throw new Error(`GET sample: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}
