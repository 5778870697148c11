// N real zkgate processes on loopback whose peer links all run through LinkProxy: each node's zoo.cfg
// gives its own real peer port and, for every other node, the proxy of the link between them. SIGKILL,
// SIGSTOP/SIGCONT and restart by id; every process and proxy is stopped at the end.
import { createWriteStream, mkdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.js';
import { emptyDataDir, freePort, tempDir, ZKGATE_BIN } from '../helpers/server.js';
import { LinkProxy, type DirectionFault } from './proxy.js';
import { untracked } from '../helpers/untracked.js';

export interface ClusterNode {
  id: number;
  url: string;
  httpPort: number;
  peerPort: number;
  dataDir: string;
  proc?: ChildProcess;
  exited?: Promise<void>;
  paused: boolean;
}

export interface ClusterOptions {
  size: number;
  /** Extra zoo.cfg lines (timings). */
  extra: string[];
  random: () => number;
  /** Folder for node logs; a temp dir when absent. */
  logDir?: string;
  /** The zkgate entry point to run (a private copy of the build, so other builds cannot change it mid-run). */
  bin?: string;
}

const START_TIMEOUT_MS = 180000;

export class Cluster {
  readonly nodes: ClusterNode[] = [];
  readonly proxies: LinkProxy[] = [];
  /** Exits the harness did not cause (crashes): node, time, exit code or signal. */
  readonly crashes: { id: number; pid: number; how: string; at: number }[] = [];
  private readonly killing = new Set<number>();
  private root = '';
  private logs = new Map<number, WriteStream>();

  constructor(private readonly o: ClusterOptions) {}

  node(id: number): ClusterNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  ids(): number[] {
    return this.nodes.map((n) => n.id);
  }

  link(a: number, b: number): LinkProxy {
    const [lo, hi] = a < b ? [a, b] : [b, a];
    const p = this.proxies.find((x) => x.lo === lo && x.hi === hi);
    if (!p) throw new Error(`no link ${lo}-${hi}`);
    return p;
  }

  /** Sets the fault on the direction from → to. */
  setDirection(from: number, to: number, fault: DirectionFault): void {
    this.link(from, to).set(from, fault);
  }

  healNetwork(): void {
    for (const p of this.proxies) p.heal();
  }

  /** If our own process ends (a test runner's timeout, Ctrl-C), its nodes must not outlive it. */
  private readonly reap = () => {
    for (const n of this.nodes) n.proc?.kill('SIGKILL');
  };
  private readonly onSignal = () => {
    this.reap();
    process.exit(143);
  };

  async start(): Promise<void> {
    process.once('exit', this.reap);
    process.once('SIGTERM', this.onSignal);
    process.once('SIGINT', this.onSignal);
    this.root = tempDir('zkgate-jepsen-');
    const logDir = this.o.logDir ?? join(this.root, 'logs');
    mkdirSync(logDir, { recursive: true });
    for (let id = 1; id <= this.o.size; id++) {
      const httpPort = await freePort();
      const peerPort = await freePort();
      const dataDir = join(this.root, `n${id}`);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'myid'), `${id}\n`);
      this.nodes.push({ id, url: `http://127.0.0.1:${httpPort}`, httpPort, peerPort, dataDir, paused: false });
      this.logs.set(id, createWriteStream(join(logDir, `n${id}.log`)));
    }
    for (const a of this.nodes) for (const b of this.nodes) if (a.id < b.id) this.proxies.push(new LinkProxy(a.id, b.id, b.peerPort, this.o.random));
    for (const p of this.proxies) await p.start();
    for (const n of this.nodes) {
      const lines = this.nodes.map((m) => `server.${m.id}=127.0.0.1:${m.id === n.id ? m.peerPort : this.link(n.id, m.id).port}:${m.peerPort};127.0.0.1:${m.httpPort}`);
      writeFileSync(join(this.root, `zoo-${n.id}.cfg`), [...this.o.extra, ...lines, 'ensembleSecret=jepsen-secret', ''].join('\n'));
    }
    await Promise.all(this.nodes.map((n) => this.startNode(n.id)));
  }

  running(id: number): boolean {
    return this.node(id).proc !== undefined;
  }

  /** Starts (or restarts) a node and waits until it answers ruok. */
  async startNode(id: number): Promise<void> {
    const n = this.node(id);
    if (n.proc) return;
    const args = [this.o.bin ?? ZKGATE_BIN, 'server', '--config', join(this.root, `zoo-${id}.cfg`), '--data-dir', n.dataDir, '--http-port', String(n.httpPort), '--log-level', 'info'];
    const proc = spawn(...untracked(process.execPath, [...SERVER_NODE_FLAGS, ...args]), { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = this.logs.get(id);
    proc.stdout?.on('data', (d: Buffer) => log?.write(d));
    proc.stderr?.on('data', (d: Buffer) => log?.write(d));
    n.proc = proc;
    n.paused = false;
    n.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        log?.write(`--- node ${id} (pid ${proc.pid}) exited: ${signal ?? code}\n`);
        if (!this.killing.has(proc.pid as number)) this.crashes.push({ id, pid: proc.pid as number, how: String(signal ?? code), at: Date.now() });
        if (n.proc === proc) n.proc = undefined;
        resolve();
      }),
    );
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline && n.proc === proc) {
      try {
        const r = await fetch(`${n.url}/v1/admin/ruok`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (n.proc !== proc) throw new Error(`node ${id} exited while starting (see its log)`);
    throw new Error(`node ${id} did not answer within ${START_TIMEOUT_MS} ms`);
  }

  async kill(id: number): Promise<void> {
    const n = this.node(id);
    const proc = n.proc;
    if (!proc) return;
    this.killing.add(proc.pid as number);
    proc.kill('SIGKILL');
    await n.exited;
    n.paused = false;
  }

  /** A replaced disk: everything in a stopped node's dataDir but its myid goes. */
  wipe(id: number): void {
    const n = this.node(id);
    if (n.proc) throw new Error(`node ${id} runs: stop it before its disk is replaced`);
    emptyDataDir(n.dataDir);
  }

  pause(id: number): void {
    const n = this.node(id);
    if (n.proc && !n.paused) {
      n.proc.kill('SIGSTOP');
      n.paused = true;
    }
  }

  resume(id: number): void {
    const n = this.node(id);
    if (n.proc && n.paused) {
      n.proc.kill('SIGCONT');
      n.paused = false;
    }
  }

  /** The node that says it leads, among running unpaused nodes (undefined if none answers so). */
  async leader(): Promise<number | undefined> {
    const found = await Promise.all(
      this.nodes.map(async (n) => {
        if (!n.proc || n.paused) return undefined;
        try {
          const r = await fetch(`${n.url}/v1/admin/srvr`, { signal: AbortSignal.timeout(1000) });
          const body = (await r.json()) as { mode?: string };
          return body.mode === 'leader' ? n.id : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    return found.find((x) => x !== undefined);
  }

  async stop(keepFiles = false): Promise<void> {
    for (const n of this.nodes) {
      if (n.proc) {
        n.proc.kill('SIGCONT');
        await this.kill(n.id);
      }
    }
    process.off('exit', this.reap);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
    for (const p of this.proxies) await p.stop();
    await Promise.all([...this.logs.values()].map((l) => new Promise<void>((r) => l.end(() => r()))));
    if (!keepFiles) rmSync(this.root, { recursive: true, force: true });
  }
}
