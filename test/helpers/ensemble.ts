// A real ensemble for tests: N zkgate processes on loopback ports, each with its own dataDir, myid and
// the shared zoo.cfg; kill -9, SIGSTOP/SIGCONT and restart by id; every process stopped by PID at the end.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnServer, tempDir, type ChildServer } from './server.js';

export interface EnsembleNode {
  id: number;
  dataDir: string;
  url: string;
  peerPort: number;
  httpPort: number;
  child?: ChildServer;
}

export interface Ensemble {
  nodes: EnsembleNode[];
  cfgPath: string;
  node(id: number): EnsembleNode;
  start(id: number): Promise<void>;
  kill(id: number, signal?: NodeJS.Signals): Promise<void>;
  pause(id: number): void;
  resume(id: number): void;
  /** Polls /v1/admin/srvr until some running node says it leads; returns its id. */
  waitForLeader(timeoutMs?: number, among?: number[]): Promise<number>;
  destroy(): Promise<void>;
}

export interface EnsembleOptions {
  size?: number;
  secret?: string;
  /** Extra zoo.cfg lines. */
  extra?: string[];
  /** Per-node extra zoo.cfg lines; asked again at every (re)start. */
  extraFor?: (id: number) => string[];
  /** Ids that join as non-voting observers. */
  observers?: number[];
  /** Per-node secret override (to test a mismatched secret). */
  secretFor?: (id: number) => string;
  /** Ids whose zoo.cfg names the secret by ensembleSecretFile (a file beside it, mode 0600) instead of ensembleSecret. */
  secretInFile?: number[];
  /** Per-node server.N lines (to test members whose zoo.cfg differs); asked again at every (re)start. */
  serversFor?: (id: number, lines: string[]) => string[];
}

async function srvr(url: string): Promise<{ mode: string; zxid: string } | null> {
  try {
    const r = await fetch(`${url}/v1/admin/srvr`, { signal: AbortSignal.timeout(1000) });
    return r.ok ? ((await r.json()) as { mode: string; zxid: string }) : null;
  } catch {
    return null;
  }
}

/** Whether the node serves, or will not without a leader: /v1/admin/ready's 200, or its 503 for `looking`. */
async function servesOrLooking(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/v1/admin/ready`, { signal: AbortSignal.timeout(1000) });
    const body = (await r.json()) as { message?: string };
    return r.status === 200 || /\(looking\)/.test(body.message ?? '');
  } catch {
    return true; // not answering: not waited for
  }
}

/**
 * Once a leader is known, waits (at most 5 s in all) until every running member that follows it serves reads: a
 * member catches up with its leader before it serves any (README, Reads), so a test reading on a follower right
 * after the election would otherwise race that. Members that know no leader, or do not answer, are not waited for.
 */
async function caughtUp(nodes: EnsembleNode[], among?: number[]): Promise<void> {
  const deadline = Date.now() + 5000;
  for (const n of nodes) {
    if (!n.child || (among && !among.includes(n.id))) continue;
    while (Date.now() < deadline && !(await servesOrLooking(n.url))) await new Promise((r) => setTimeout(r, 20));
  }
}

export async function startEnsemble(o: EnsembleOptions = {}): Promise<Ensemble> {
  // Test files run side by side (tap's jobs), each picking ports at random: two may pick the same one between
  // choosing and binding it. The loser exits with EADDRINUSE, or, worse, its URL answers from the other file's
  // server. Either is found here, and the whole ensemble starts again on fresh ports.
  for (let attempt = 1; ; attempt++) {
    const ens = await ensembleOnFreshPorts(o);
    let clash: string | undefined;
    try {
      await Promise.all(ens.nodes.map((n) => ens.start(n.id)));
      clash = await portTakenByOther(ens);
    } catch (e) {
      if (!/EADDRINUSE/.test(String(e))) {
        await ens.destroy();
        throw e;
      }
      clash = String(e).split('\n')[0];
    }
    if (clash === undefined) return ens;
    await ens.destroy();
    if (attempt === 3) throw new Error(`an ensemble's ports were taken by other processes three times; the last: ${clash}`);
    process.stderr.write(`[ensemble] starting again on fresh ports: ${clash}\n`);
  }
}

/** Which node's HTTP port answers for another process (by the pid its envi reports), if any. */
async function portTakenByOther(ens: Ensemble): Promise<string | undefined> {
  for (const n of ens.nodes) {
    const envi = (await (await fetch(`${n.url}/v1/admin/envi`)).json()) as { pid?: number };
    if (envi.pid !== n.child?.proc.pid) return `node ${n.id}'s port ${n.httpPort} is served by pid ${envi.pid}, not by it (${n.child?.proc.pid})`;
  }
  return undefined;
}

async function ensembleOnFreshPorts(o: EnsembleOptions): Promise<Ensemble> {
  const size = o.size ?? 3;
  const root = tempDir('zkgate-ens-');
  const nodes: EnsembleNode[] = [];
  for (let id = 1; id <= size; id++) {
    const httpPort = await freePort();
    const peerPort = await freePort();
    nodes.push({ id, dataDir: join(root, `n${id}`), url: `http://127.0.0.1:${httpPort}`, peerPort, httpPort });
  }
  const servers = nodes.map((n) => `server.${n.id}=127.0.0.1:${n.peerPort}:${n.peerPort}${o.observers?.includes(n.id) ? ':observer' : ''};127.0.0.1:${n.httpPort}`);
  const cfgFor = (id: number) => {
    const p = join(root, `zoo-${id}.cfg`);
    const lines = ['tickTime=500', 'initLimit=20', 'syncLimit=5', ...(o.serversFor ? o.serversFor(id, servers) : servers), ...(o.extra ?? []), ...(o.extraFor?.(id) ?? [])];
    const secret = o.secretFor ? o.secretFor(id) : (o.secret ?? 'test-secret');
    if (o.secretInFile?.includes(id)) {
      writeFileSync(join(root, `secret-${id}`), `${secret}\n`, { mode: 0o600 });
      lines.push(`ensembleSecretFile=secret-${id}`);
    } else {
      lines.push(`ensembleSecret=${secret}`);
    }
    writeFileSync(p, lines.join('\n') + '\n');
    return p;
  };
  for (const n of nodes) {
    mkdirSync(n.dataDir, { recursive: true });
    writeFileSync(join(n.dataDir, 'myid'), `${n.id}\n`);
  }
  /** Children this helper stopped (kill, destroy): their exits are expected. */
  const stopping = new WeakSet<ChildServer>();
  const ens: Ensemble = {
    nodes,
    cfgPath: join(root, 'zoo-1.cfg'),
    node: (id) => nodes.find((n) => n.id === id) as EnsembleNode,
    async start(id) {
      const n = ens.node(id);
      const child = await spawnServer(['--config', cfgFor(id), '--data-dir', n.dataDir, '--http-port', String(n.httpPort), '--log-level', 'info']);
      // A node that exits on its own (a crash, a port another test process took) would otherwise show only as
      // a refused connection somewhere later: say so, with the end of its stderr.
      const report = (how: string) => {
        const errors = child.stdout().split('\n').filter((l) => /"level":(50|60)/.test(l)).slice(-5);
        return `node ${id} ${how}; its last error log lines and the end of its stderr:\n${errors.join('\n')}\n${child.stderr().slice(-3000)}`;
      };
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(report(`exited while starting (${child.proc.signalCode ?? child.proc.exitCode})`));
      void child.exited.then(({ code, signal }) => {
        if (!stopping.has(child)) process.stderr.write(`[ensemble] ${report(`exited on its own (${signal ?? code})`)}\n`);
      });
      n.child = child;
    },
    async kill(id, signal = 'SIGKILL') {
      const n = ens.node(id);
      if (!n.child) return;
      stopping.add(n.child);
      n.child.proc.kill('SIGCONT');
      n.child.proc.kill(signal);
      await n.child.exited;
      n.child = undefined;
    },
    pause(id) {
      ens.node(id).child?.proc.kill('SIGSTOP');
    },
    resume(id) {
      ens.node(id).child?.proc.kill('SIGCONT');
    },
    async waitForLeader(timeoutMs = 30000, among) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        for (const n of nodes) {
          if (!n.child || (among && !among.includes(n.id))) continue;
          const s = await srvr(n.url);
          if (s?.mode === 'leader') {
            await caughtUp(nodes, among);
            return n.id;
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // Say what each node was doing: the last log lines of every running member.
      const tails = nodes
        .filter((n) => n.child)
        .map((n) => `--- node ${n.id}\n` + (n.child?.stdout() ?? '').split('\n').filter((l) => /role|peer|error|fatal/.test(l)).slice(-8).join('\n'));
      throw new Error(`no leader elected in ${timeoutMs} ms\n${tails.join('\n')}`);
    },
    async destroy() {
      for (const n of nodes) if (n.child) await ens.kill(n.id);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return ens;
}

/**
 * A 3-node ensemble whose leader compacts its log after 20 entries, keeping 5, so a follower that misses more can
 * only catch up by snapshot; destroyed when `t` ends. Returns it with its leader's URL and one follower.
 */
export async function startCompactingEnsemble(t: { teardown(fn: () => unknown): void }): Promise<{ ens: Ensemble; url: string; lagging: EnsembleNode }> {
  const ens = await startEnsemble({ extra: ['snapCount=20', 'logRetainEntries=5'] });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader();
  return { ens, url: ens.node(leader).url, lagging: ens.nodes.find((n) => n.id !== leader) as EnsembleNode };
}
