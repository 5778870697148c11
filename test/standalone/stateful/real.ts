// The real side of the model test: the server under test (restarted in place on the same dataDir) and
// the HTTP client every command talks to it through, with the settings that keep the model clock-free.
import { rmSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { Config } from '../../../server/config.js';
import { startTestServer, tempDir, type TestServer } from '../../helpers/server.js';

/** Sessions never expire and containers/TTL nodes are never swept during a run: the model has no clock. */
const OVERRIDES: Partial<Config> = { maxSessionTimeout: 3_600_000, containerCheckIntervalMs: 3_600_000 };
export const SESSION_TIMEOUT_MS = 600_000;
export const TTL_MS = 86_400_000;
export const MAX_SESSIONS = 4;

// ---------------------------------------------------------------------------------------------------------------
// HTTP

export interface Resp {
  status: number;
  headers: Record<string, string>;
  raw: Buffer;
  /** The parsed JSON body, when there is one. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

class Http {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 4 });
  /** The last exchange, for failure messages. */
  last = '';
  constructor(readonly base: string) {}

  async call(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Resp> {
    const res = await request(this.base + path, {
      method: method as 'GET',
      headers,
      body,
      dispatcher: this.agent,
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
    const raw = Buffer.from(await res.body.arrayBuffer());
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    let json: unknown;
    if ((h['content-type'] ?? '').includes('json') && raw.length > 0) json = JSON.parse(raw.toString('utf8'));
    const shownBody = body === undefined ? '' : ` body=${JSON.stringify(typeof body === 'string' ? body : body.toString('latin1'))}`;
    this.last = `${method} ${path} ${JSON.stringify(headers)}${shownBody} -> ${res.statusCode} zxid=${h['zk-zxid']} ${raw.toString('utf8').slice(0, 600)}`;
    return { status: res.statusCode, headers: h, raw, json };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export function zurl(path: string, query = ''): string {
  return '/v1/znodes' + (path === '/' ? '/' : path) + (query ? '?' + query : '');
}

// ---------------------------------------------------------------------------------------------------------------
// What the server runs on, restarted in place by the Restart command.

export class Real {
  http: Http;
  restarts = 0;
  private constructor(
    public server: TestServer,
    readonly dataDir: string,
  ) {
    this.http = new Http(server.url);
  }

  static async start(): Promise<Real> {
    const dataDir = tempDir('zkgate-model-');
    return new Real(await startTestServer({ ...OVERRIDES, dataDir }), dataDir);
  }

  async restart(): Promise<void> {
    await this.http.close();
    await this.server.close();
    this.server = await startTestServer({ ...OVERRIDES, dataDir: this.dataDir });
    this.http = new Http(this.server.url);
    this.restarts++;
  }

  async stop(): Promise<void> {
    await this.http.close().catch(() => {});
    await this.server.close().catch(() => {});
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
