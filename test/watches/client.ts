// A WebSocket test client for /v1/watch: numbered requests matched to their replies, and every other frame
// (events, session, resync) kept in arrival order so tests can wait for and inspect them.
import WebSocket from 'ws';

export type Frame = Record<string, unknown>;

export interface WatchEventFrame {
  type: 'event';
  event: string;
  path: string;
  zxid: string;
}

export class WatchClient {
  readonly pushed: Frame[] = [];
  private readonly replies = new Map<number, (f: Frame) => void>();
  private readonly waiters: (() => void)[] = [];
  private nextId = 1;
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as Frame;
      const r = typeof f.id === 'number' ? this.replies.get(f.id) : undefined;
      if (r && 'ok' in f) {
        this.replies.delete(f.id as number);
        r(f);
      } else this.pushed.push(f);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(baseUrl: string, headers: Record<string, string> = {}): Promise<WatchClient> {
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + '/v1/watch', { headers, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return new WatchClient(ws);
  }

  /** open(), closed when `t` ends. */
  static async openFor(t: { teardown: (fn: () => unknown) => void }, baseUrl: string): Promise<WatchClient> {
    const c = await WatchClient.open(baseUrl);
    t.teardown(() => c.close());
    return c;
  }

  /** Sends `frame` with a fresh numeric id and resolves with its reply. */
  request(frame: Frame, timeoutMs = 20000): Promise<Frame> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(frame)} within ${timeoutMs} ms`)), timeoutMs);
      this.replies.set(id, (f) => {
        clearTimeout(t);
        resolve(f);
      });
      this.ws.send(JSON.stringify({ id, ...frame }));
    });
  }

  watch(path: string, kind: string, extra: Frame = {}): Promise<Frame> {
    return this.request({ op: 'watch', path, kind, ...extra });
  }

  events(): WatchEventFrame[] {
    return this.pushed.filter((f) => f.type === 'event') as unknown as WatchEventFrame[];
  }

  /** Compact "Event path" strings of the events received so far. */
  eventList(): string[] {
    return this.events().map((e) => `${e.event} ${e.path}`);
  }

  /** Waits until `pred` holds over what has arrived (or the connection closed), up to timeoutMs. */
  async until(pred: () => boolean, timeoutMs = 15000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.closed) return pred();
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  /** Waits for `n` events in all. */
  untilEvents(n: number, timeoutMs = 15000): Promise<boolean> {
    return this.until(() => this.events().length >= n, timeoutMs);
  }

  /** Round-trips a ping: every event the server sent before it has arrived by then. */
  async sync(): Promise<void> {
    await this.request({ op: 'ping' });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => {
      this.ws.once('close', () => r());
      this.ws.close();
    });
  }
}

/** Issues an HTTP request against the test server and returns status and parsed JSON (or text). */
export async function http(
  base: string,
  method: string,
  path: string,
  body?: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Frame; headers: Headers }> {
  const r = await fetch(base + path, { method, body: body as BodyInit | undefined, headers });
  const text = await r.text();
  let parsed: Frame = {};
  try {
    parsed = text ? (JSON.parse(text) as Frame) : {};
  } catch {
    parsed = { text };
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

/**
 * Makes `c` a slow reader: it stops reading and asks for 200 replies of `path`'s data (make it ~256 KiB), which
 * overflow the socket buffers and any small wsMaxBufferedBytes. True once the server has given up on it (its
 * watches dropped), which is when its 1008 close is queued behind the backlog.
 */
export async function stallWithReplies(base: string, c: WatchClient, path: string): Promise<boolean> {
  c.ws.pause();
  for (let i = 0; i < 200; i++) c.ws.send(JSON.stringify({ id: 1000 + i, op: 'watch', path, kind: 'data' }));
  for (let i = 0; i < 200; i++) {
    if ((await http(base, 'GET', '/v1/admin/wchs')).body.numTotalWatches === 0) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}
