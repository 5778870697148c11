// The `ws` client the fuzz runs speak through: it keeps every frame the server sends, in order, so that the
// invariants can be checked after the fact rather than while frames still arrive.
import WebSocket from 'ws';
import { isPlainObject } from './oracle.js';
import { wsUrl } from './server.js';

export type Frame = Record<string, unknown>;

// ---- a recording client ----

interface Received {
  reply: boolean;
  f: Frame;
}

/** A `ws` client that keeps everything the server sends, in order, and how the connection ended. */
export class Recorder {
  readonly got: Received[] = [];
  readonly malformed: string[] = [];
  closed: { code: number; reason: string } | undefined;
  errored: Error | undefined;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d, isBinary) => {
      const text = Buffer.isBuffer(d) ? d.toString('utf8') : Buffer.concat(d as Buffer[]).toString('utf8');
      let f: unknown;
      try {
        f = JSON.parse(text);
      } catch {
        f = undefined;
      }
      if (isBinary || !isPlainObject(f)) this.malformed.push(`${isBinary ? 'binary ' : ''}${text.slice(0, 200)}`);
      else this.got.push({ reply: 'ok' in f, f });
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', (e) => {
      this.errored = e;
      this.wake();
    });
  }

  static open(headers: Record<string, string> = {}, url = wsUrl): Promise<Recorder> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Recorder(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  get replies(): Frame[] {
    return this.got.filter((g) => g.reply).map((g) => g.f);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async until(pred: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
    return true;
  }
}
