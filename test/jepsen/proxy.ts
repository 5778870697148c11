// A controllable TCP proxy for one peer link (lower id dials higher id through it). Each direction parses
// the peer protocol's [u32 length][payload] frames and can drop them (blackhole), lose a fraction of them,
// or hold them back for a delay (in order, with a byte bound); faults never close the connection.
import net from 'node:net';

export interface DirectionFault {
  /** Drop every frame (a one-way or two-way partition). */
  drop: boolean;
  /** Probability of dropping each frame. */
  loss: number;
  /** Extra latency per frame, uniformly in [min, max] ms; frames keep their order. */
  delayMs: [number, number];
}

export const HEALTHY: DirectionFault = { drop: false, loss: 0, delayMs: [0, 0] };

/** Bytes one direction of one connection may hold back for delays; past it frames are dropped. */
const MAX_DELAYED_BYTES = 16 * 1024 * 1024;
/** A frame longer than this means the stream is not the peer protocol; the proxy then just forwards bytes. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

class Direction {
  private buf: Buffer = Buffer.alloc(0);
  private delayed = 0;
  private releaseAt = 0;
  private readonly queue: { at: number; f: Buffer }[] = [];
  private timer?: NodeJS.Timeout;
  stats = { frames: 0, dropped: 0, delayed: 0 };

  constructor(
    private readonly out: net.Socket,
    private readonly fault: () => DirectionFault,
    private readonly random: () => number,
  ) {}

  push(data: Buffer): void {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_FRAME_BYTES) {
        this.forward(this.buf);
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.buf.length < 4 + len) return;
      const f = this.buf.subarray(0, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      this.frame(f);
    }
  }

  private frame(f: Buffer): void {
    this.stats.frames++;
    const fault = this.fault();
    if (fault.drop || (fault.loss > 0 && this.random() < fault.loss)) {
      this.stats.dropped++;
      return;
    }
    const [min, max] = fault.delayMs;
    if (max <= 0 && this.delayed === 0) return this.forward(f);
    if (this.delayed + f.length > MAX_DELAYED_BYTES) {
      this.stats.dropped++;
      return;
    }
    this.stats.delayed++;
    // In order: a frame is never released before one delayed earlier.
    this.releaseAt = Math.max(this.releaseAt, performance.now() + min + this.random() * (max - min));
    this.delayed += f.length;
    this.queue.push({ at: this.releaseAt, f });
    if (!this.timer) this.pump();
  }

  /** Releases due frames from the head of the queue, then sleeps until the next one is due. */
  private pump(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && (this.queue[0] as { at: number }).at <= now) {
      const { f } = this.queue.shift() as { f: Buffer };
      this.delayed -= f.length;
      this.forward(f);
    }
    const next = this.queue[0];
    if (next) this.timer = setTimeout(() => this.pump(), Math.max(1, next.at - now));
  }

  private forward(b: Buffer): void {
    if (!this.out.destroyed) this.out.write(b);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }
}

export interface LinkStats {
  connections: number;
  frames: number;
  dropped: number;
  delayed: number;
}

/** The proxy between peers `lo` (the dialer) and `hi`; `faults` is read on every frame. */
export class LinkProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly directions = new Set<Direction>();
  /** lo→hi and hi→lo faults. */
  up: DirectionFault = HEALTHY;
  down: DirectionFault = HEALTHY;
  private readonly totals = { connections: 0, frames: 0, dropped: 0, delayed: 0 };
  port = 0;

  constructor(
    readonly lo: number,
    readonly hi: number,
    private readonly targetPort: number,
    private readonly random: () => number,
  ) {}

  async start(): Promise<number> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(0, '127.0.0.1', () => resolve());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this.port;
  }

  /** Fault on the direction from `from` to the other end. */
  set(from: number, fault: DirectionFault): void {
    if (from === this.lo) this.up = fault;
    else this.down = fault;
  }

  heal(): void {
    this.up = HEALTHY;
    this.down = HEALTHY;
  }

  stats(): LinkStats {
    const s = { ...this.totals };
    for (const d of this.directions) {
      s.frames += d.stats.frames;
      s.dropped += d.stats.dropped;
      s.delayed += d.stats.delayed;
    }
    return s;
  }

  private accept(client: net.Socket): void {
    this.totals.connections++;
    const server = net.connect({ host: '127.0.0.1', port: this.targetPort });
    client.setNoDelay(true);
    server.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(server);
    const up = new Direction(server, () => this.up, this.random);
    const down = new Direction(client, () => this.down, this.random);
    this.directions.add(up);
    this.directions.add(down);
    client.on('data', (d) => up.push(d));
    server.on('data', (d) => down.push(d));
    const end = () => {
      for (const d of [up, down]) {
        d.close();
        this.directions.delete(d);
        this.totals.frames += d.stats.frames;
        this.totals.dropped += d.stats.dropped;
        this.totals.delayed += d.stats.delayed;
      }
      client.destroy();
      server.destroy();
      this.sockets.delete(client);
      this.sockets.delete(server);
    };
    let ended = false;
    const once = () => {
      if (!ended) (ended = true), end();
    };
    client.on('close', once);
    server.on('close', once);
    client.on('error', () => {});
    server.on('error', () => {});
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const d of this.directions) d.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
