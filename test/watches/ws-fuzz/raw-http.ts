// Raw HTTP upgrade requests, written byte for byte so that headers a real client would fix can be sent, the
// generator of such requests, and the check that a refusal is a §6 JSON error.
import fc from 'fast-check';
import net from 'node:net';
import { ERROR_CODES, STATUS_NAMES, isPlainObject, isZxid } from './oracle.js';
import { s } from './server.js';

// ---- upgrade requests ----

interface RawHttp {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection after answering. */
  closed: boolean;
}

/** Sends `request` verbatim and reads the answer's head and body (the server answers refused upgrades and closes). */
export function rawHttp(request: string): Promise<RawHttp | 'hang'> {
  return new Promise((resolve) => {
    const sock = net.connect(s.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (v: RawHttp | 'hang') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const parse = (closed: boolean): RawHttp | undefined => {
      const i = buf.indexOf('\r\n\r\n');
      if (i < 0) return undefined;
      const lines = buf.subarray(0, i).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const k = l.indexOf(':');
        headers[l.slice(0, k).trim().toLowerCase()] = l.slice(k + 1).trim();
      }
      const status = Number((lines[0] ?? '').split(' ')[1]);
      const len = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
      const body = buf.subarray(i + 4);
      if (status === 101) return { status, headers, body: '', closed };
      if (len !== undefined && body.length < len) return undefined;
      if (len === undefined && !closed) return undefined;
      return { status, headers, body: body.subarray(0, len).toString('utf8'), closed };
    };
    const timer = setTimeout(() => finish(parse(false) ?? 'hang'), 3000);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parse(false);
      if (r && (r.status === 101 || r.headers.connection?.toLowerCase() !== 'close')) finish(r);
    });
    sock.on('close', () => finish(parse(true) ?? 'hang'));
    sock.on('error', () => {});
    sock.write(request);
  });
}

export const VALID_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
interface UpgradeReq {
  method: string;
  path: string;
  upgrade: string | undefined;
  connection: string | undefined;
  key: string | undefined;
  version: string | undefined;
  protocol: string | undefined;
  origin: string | undefined;
  authorization: string | undefined;
}
export const upgradeArb: fc.Arbitrary<UpgradeReq> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'),
  path: fc.constantFrom('/v1/watch', '/v1/watch', '/v1/watch?x=1', '/v1/watch?%zz', '/v1/watch/', '/v1/watchx', '/v1/Watch', '/v1/znodes/f', '/', '/v1/watch/../watch'),
  upgrade: fc.constantFrom<string | undefined>('websocket', 'websocket', 'WebSocket', 'h2c', 'websocket, h2c', '', undefined),
  connection: fc.constantFrom<string | undefined>('Upgrade', 'Upgrade', 'keep-alive, Upgrade', 'keep-alive', undefined),
  key: fc.constantFrom<string | undefined>(VALID_KEY, VALID_KEY, undefined, '', 'short', 'not base64 at all!!!!!', VALID_KEY + VALID_KEY),
  version: fc.constantFrom<string | undefined>('13', '13', '8', '12', '14', '', 'abc', '13, 8', undefined),
  protocol: fc.constantFrom<string | undefined>(undefined, undefined, 'chat', 'a,,b', ' '),
  origin: fc.constantFrom<string | undefined>(undefined, undefined, 'http://evil.example', 'null'),
  authorization: fc.constantFrom<string | undefined>(undefined, undefined, 'Basic !!!', 'Bearer x', 'Basic ' + Buffer.from('u:p').toString('base64')),
});


export function upgradeText(u: UpgradeReq): string {
  const h = [`${u.method} ${u.path} HTTP/1.1`, `Host: 127.0.0.1:${s.port}`];
  if (u.connection !== undefined) h.push(`Connection: ${u.connection}`);
  if (u.upgrade !== undefined) h.push(`Upgrade: ${u.upgrade}`);
  if (u.key !== undefined) h.push(`Sec-WebSocket-Key: ${u.key}`);
  if (u.version !== undefined) h.push(`Sec-WebSocket-Version: ${u.version}`);
  if (u.protocol !== undefined) h.push(`Sec-WebSocket-Protocol: ${u.protocol}`);
  if (u.origin !== undefined) h.push(`Origin: ${u.origin}`);
  if (u.authorization !== undefined) h.push(`Authorization: ${u.authorization}`);
  if (u.method !== 'GET') h.push('Content-Length: 0');
  return h.join('\r\n') + '\r\n\r\n';
}

/** Why an answer is not a §6 error: JSON {error, code, message, path?} whose name, code and HTTP status agree, with ZK-Zxid. */
export function httpErrorProblem(a: RawHttp): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(a.body);
  } catch {
    return `${a.status} with a body that is not JSON: ${JSON.stringify(a.body.slice(0, 80))} (${a.headers['content-type']})`;
  }
  if (!isPlainObject(body) || typeof body.error !== 'string' || typeof body.message !== 'string') return `${a.status} body not {error, code, message}: ${a.body.slice(0, 120)}`;
  if (ERROR_CODES[body.error] !== body.code) return `${a.status} ${body.error} with code ${String(body.code)}`;
  if (!(STATUS_NAMES[a.status] ?? []).includes(body.error)) return `${a.status} carrying ${body.error}: §6 does not pair them`;
  if (!isZxid(a.headers['zk-zxid'])) return `${a.status} without ZK-Zxid`;
  if (a.status === 405 && !a.headers.allow) return '405 without Allow';
  if (a.status === 503 && !a.headers['retry-after']) return '503 without Retry-After';
  return undefined;
}
