// Persistent watchers over WebSocket: each watches one register znode on some node, records every event
// and resync, and on a broken connection resumes on another node with sinceZxid = the last zxid it saw.
import WebSocket from 'ws';
import type { WatcherLog } from '../history.js';
import { sleep } from '../http.js';
import { pickNode, type WorkloadContext } from './context.js';

interface Frame {
  id?: number;
  ok?: boolean;
  type?: string;
  event?: string;
  zxid?: string;
  error?: string;
}

/** Bounded reconnect pause. */
const RECONNECT_MS = 200;

export class Watcher {
  readonly log: WatcherLog;
  private ws?: WebSocket;
  private node = 0;
  private last: number | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (f: Frame) => void>();
  private loop?: Promise<void>;
  private closing = false;

  constructor(
    private readonly ctx: WorkloadContext,
    id: number,
    readonly path: string,
    key: string,
  ) {
    this.log = { watcher: id, key, events: [] };
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.closing) {
      const [node, url] = pickNode(this.ctx);
      try {
        await this.session(node, url.replace('http', 'ws'));
      } catch {
        /* connection failed or broke: resume elsewhere */
      }
      if (!this.closing) await sleep(RECONNECT_MS);
    }
  }

  private session(node: number, wsUrl: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const ws = new WebSocket(`${wsUrl}/v1/watch`, { handshakeTimeout: this.ctx.opTimeoutMs });
      this.ws = ws;
      this.node = node;
      let established = false;
      const guard = setTimeout(() => {
        if (!established) ws.terminate();
      }, this.ctx.opTimeoutMs);
      ws.on('open', () => {
        const id = this.nextId++;
        const msg: Record<string, unknown> = { id, op: 'watch', path: this.path, kind: 'persistent' };
        if (this.last !== undefined) msg.sinceZxid = String(this.last);
        this.waiting.set(id, (f) => {
          if (!f.ok) return void ws.close();
          established = true;
          const z = Number(f.zxid);
          this.log.events.push({ t: this.ctx.history.now(), kind: 'established', zxid: z, node });
          this.last = Math.max(this.last ?? 0, z);
        });
        ws.send(JSON.stringify(msg));
      });
      ws.on('message', (data) => {
        let f: Frame;
        try {
          f = JSON.parse(String(data)) as Frame;
        } catch {
          return;
        }
        if (f.type === 'event') {
          const z = Number(f.zxid);
          this.log.events.push({ t: this.ctx.history.now(), kind: 'event', event: f.event, zxid: z, node });
          this.last = Math.max(this.last ?? 0, z);
        } else if (f.type === 'resync') {
          this.log.events.push({ t: this.ctx.history.now(), kind: 'resync', zxid: this.last ?? 0, node });
        } else if (f.id !== undefined) {
          const w = this.waiting.get(f.id);
          this.waiting.delete(f.id);
          w?.(f);
        }
      });
      ws.on('error', () => {});
      ws.on('close', () => {
        clearTimeout(guard);
        for (const w of this.waiting.values()) w({ ok: false });
        this.waiting.clear();
        if (this.ws === ws) this.ws = undefined;
        resolve();
      });
    });
  }

  /** Asks the watcher's node for its applied zxid; events up to it were sent before the answer. */
  private ping(): Promise<number | undefined> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, this.ctx.opTimeoutMs);
      this.waiting.set(id, (f) => {
        clearTimeout(t);
        resolve(f.ok ? Number(f.zxid) : undefined);
      });
      ws.send(JSON.stringify({ id, op: 'ping' }));
    });
  }

  /** Waits (bounded) until the watcher's node has applied `zxid`; records how far the watcher is accountable. */
  async catchUp(zxid: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const z = await this.ping();
      if (z !== undefined && z >= zxid) {
        this.log.endZxid = z;
        return;
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.closing = true;
    this.ws?.terminate();
    await this.loop;
  }

  get currentNode(): number {
    return this.node;
  }
}
