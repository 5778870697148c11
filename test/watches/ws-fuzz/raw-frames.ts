// Raw RFC 6455 frames and a raw-socket client, for what the `ws` client refuses to send (unmasked frames, bad
// opcodes, invalid UTF-8, lying lengths), with the generator of such steps.
import fc from 'fast-check';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Frame } from './recorder.js';
import { s, sleep } from './server.js';

// ---- the WebSocket protocol itself (RFC 6455), through a raw socket ----

export function maskedFrame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; mask?: boolean; rsv?: number; length?: number } = {}): Buffer {
  const p = Buffer.from(payload);
  const n = opts.length ?? p.length;
  const mask = opts.mask ?? true;
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode];
  const m = mask ? 0x80 : 0;
  if (n < 126) head.push(m | n);
  else if (n < 65536) head.push(m | 126, n >> 8, n & 255);
  else {
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(n));
    head.push(m | 127, ...len);
  }
  const key = randomBytes(4);
  const body = Buffer.from(p);
  if (mask) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i & 3] as number);
  return Buffer.concat([Buffer.from(head), mask ? key : Buffer.alloc(0), body]);
}
export const closeBody = (code: number, reason: Buffer | string = '') => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return Buffer.concat([b, Buffer.from(reason)]);
};

export interface RawFrame {
  opcode: number;
  payload: Buffer;
}

/** A raw WebSocket client: the handshake, then frames written as given and the server's frames parsed. */
export class RawClient {
  frames: RawFrame[] = [];
  ended = false;
  private buf = Buffer.alloc(0);
  private constructor(readonly sock: net.Socket) {}

  static connect(): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(s.port, '127.0.0.1');
      const c = new RawClient(sock);
      let upgraded = false;
      sock.on('data', (d) => {
        c.buf = Buffer.concat([c.buf, d]);
        if (!upgraded) {
          const i = c.buf.indexOf('\r\n\r\n');
          if (i < 0) return;
          const head = c.buf.subarray(0, i).toString();
          c.buf = c.buf.subarray(i + 4);
          upgraded = true;
          if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head));
          resolve(c);
        }
        c.parse();
      });
      sock.on('close', () => (c.ended = true));
      sock.on('error', () => {});
      sock.write(`GET /v1/watch HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
  }

  private parse(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      let n = (this.buf[1] as number) & 127;
      let h = 2;
      if (n === 126) {
        if (this.buf.length < 4) return;
        n = this.buf.readUInt16BE(2);
        h = 4;
      } else if (n === 127) {
        if (this.buf.length < 10) return;
        n = Number(this.buf.readBigUInt64BE(2));
        h = 10;
      }
      if (this.buf.length < h + n) return;
      this.frames.push({ opcode: (this.buf[0] as number) & 15, payload: this.buf.subarray(h, h + n) });
      this.buf = this.buf.subarray(h + n);
    }
  }

  get texts(): Frame[] {
    return this.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString()) as Frame);
  }

  get close(): { code: number | undefined; reason: string } | undefined {
    const f = this.frames.find((x) => x.opcode === 8);
    if (!f) return undefined;
    return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined, reason: f.payload.subarray(2).toString() };
  }

  async until(pred: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!pred() && Date.now() < deadline) await sleep(5);
    return pred();
  }
}

/** Status codes a client may send in a close frame (RFC 6455 §7.4, as ws checks them). */
const validCloseCode = (c: number) => (c >= 1000 && c <= 1014 && c !== 1004 && c !== 1005 && c !== 1006) || (c >= 3000 && c <= 4999);

type RawStep =
  | { s: 'ping' }
  | { s: 'wsPing'; data: string }
  | { s: 'pong' }
  | { s: 'fragmented'; parts: number }
  | { s: 'violation'; name: string; frames: Buffer[]; code: number }
  | { s: 'close'; code: number; reason: string }
  | { s: 'emptyClose' };

const violationArb: fc.Arbitrary<RawStep> = fc.oneof(
  fc.constantFrom(
    { name: 'invalid UTF-8 in a text frame', frames: [maskedFrame(1, Buffer.from([0x7b, 0xff, 0x7d]))], code: 1007 },
    { name: 'a UTF-8 surrogate in a text frame', frames: [maskedFrame(1, Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]))], code: 1007 },
    { name: 'an unmasked frame', frames: [maskedFrame(1, '{"op":"ping"}', { mask: false })], code: 1002 },
    { name: 'RSV1 without an extension', frames: [maskedFrame(1, '{"op":"ping"}', { rsv: 4 })], code: 1002 },
    { name: 'reserved opcode 3', frames: [maskedFrame(3, 'x')], code: 1002 },
    { name: 'reserved opcode 11', frames: [maskedFrame(11, 'x')], code: 1002 },
    { name: 'a continuation with nothing to continue', frames: [maskedFrame(0, 'x')], code: 1002 },
    { name: 'a fragmented ping', frames: [maskedFrame(9, 'p', { fin: false })], code: 1002 },
    { name: 'a ping over 125 bytes', frames: [maskedFrame(9, Buffer.alloc(126))], code: 1002 },
    { name: 'a new message inside a fragmented one', frames: [maskedFrame(1, '{"id":1,', { fin: false }), maskedFrame(1, 'x')], code: 1002 },
    { name: 'a one-byte close body', frames: [maskedFrame(8, Buffer.from([3]))], code: 1002 },
    { name: 'a close with invalid UTF-8 in its reason', frames: [maskedFrame(8, closeBody(1000, Buffer.from([0xff])))], code: 1007 },
    { name: 'fragments adding up past wsMaxFrameBytes', frames: Array.from({ length: 20 }, (_, i) => maskedFrame(i === 0 ? 1 : 0, 'x'.repeat(1000), { fin: i === 19 })), code: 1009 },
    { name: 'a length header of 2^40', frames: [maskedFrame(1, '', { length: 2 ** 40 })], code: 1009 },
  ),
  fc.integer({ min: 0, max: 65535 }).filter((c) => !validCloseCode(c)).map((code) => ({ name: `a close with invalid code ${code}`, frames: [maskedFrame(8, closeBody(code))], code: 1002 })),
).map((v): RawStep => ({ s: 'violation', name: v.name, frames: [...v.frames], code: v.code }));

export const rawStepArb: fc.Arbitrary<RawStep> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<RawStep>({ s: 'ping' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).filter((d) => Buffer.byteLength(d) <= 125).map((data): RawStep => ({ s: 'wsPing', data })) },
  { weight: 1, arbitrary: fc.constant<RawStep>({ s: 'pong' }) },
  { weight: 2, arbitrary: fc.integer({ min: 2, max: 6 }).map((parts): RawStep => ({ s: 'fragmented', parts })) },
  { weight: 2, arbitrary: violationArb },
  {
    weight: 1,
    arbitrary: fc
      .record({ code: fc.oneof(fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999), fc.integer({ min: 3000, max: 4999 })), reason: fc.string({ maxLength: 40 }).filter((r) => Buffer.byteLength(r) <= 123) })
      .map((c): RawStep => ({ s: 'close', ...c })),
  },
  { weight: 1, arbitrary: fc.constant<RawStep>({ s: 'emptyClose' }) },
);
