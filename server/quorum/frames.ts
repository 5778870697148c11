// Length-prefixed frames on a TCP stream: [u32 length][payload], bounded in size; the decoder never
// buffers more than one maximal frame.
export { decodeValue, encodeValue } from '../../storage/codec.js';

export function frame(payload: Uint8Array, tag?: Uint8Array): Buffer {
  const len = payload.byteLength + (tag?.byteLength ?? 0);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(len);
  return tag ? Buffer.concat([head, payload, tag]) : Buffer.concat([head, payload]);
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns complete frames. Throws when a frame announces more than the bound. */
  push(data: Buffer): Buffer[] {
    this.chunks.push(data);
    this.buffered += data.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peek(4);
      const len = head.readUInt32BE(0);
      if (len > this.maxFrameBytes) throw new Error(`peer frame of ${len} bytes exceeds the ${this.maxFrameBytes}-byte bound`);
      if (this.buffered < 4 + len) break;
      const all = this.take(4 + len);
      out.push(all.subarray(4));
    }
    return out;
  }

  private peek(n: number): Buffer {
    if ((this.chunks[0] as Buffer).length >= n) return this.chunks[0] as Buffer;
    const b = Buffer.concat(this.chunks);
    this.chunks = [b];
    return b;
  }

  private take(n: number): Buffer {
    const b = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const out = b.subarray(0, n);
    const rest = b.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered -= n;
    return out;
  }
}
