// Every REST operation of API.md §3–4 and §8 as a typed method over the transport: znodes, multi, ACLs, sync,
// sessions and the admin words. Data goes out as raw bytes and comes back as bytes (base64 decoded).
import { ZkClientError } from './errors.js';
import type { HttpResponse, RequestSpec, Transport } from './http.js';
import type { Acl, ChildrenResult, CreateOptions, Data, DataResult, Encoding, MultiOp, MultiResult, ReadOp, ReadResult, SessionInfo, Stat } from './types.js';

/** `/a/b` → `/v1/znodes/a/b` with each segment percent-encoded. */
export function znodeUrl(prefix: string, path: string): string {
  if (!path.startsWith('/')) throw new ZkClientError('BadArguments', `path must be absolute: ${JSON.stringify(path)}`, { path });
  return prefix + (path === '/' ? '/' : path.split('/').map(encodeURIComponent).join('/'));
}

export function toBytes(d: Data | undefined): Uint8Array {
  if (d === undefined) return new Uint8Array(0);
  return typeof d === 'string' ? new TextEncoder().encode(d) : d;
}

export function fromWire(data: string, encoding: Encoding): Uint8Array {
  return encoding === 'base64' ? new Uint8Array(Buffer.from(data, 'base64')) : new TextEncoder().encode(data);
}

function wireData(d: Data | undefined): { data?: string; encoding?: Encoding } {
  if (d === undefined) return {};
  if (typeof d === 'string') return { data: d, encoding: 'utf8' };
  return { data: Buffer.from(d).toString('base64'), encoding: 'base64' };
}

function aclStrings(acl: Acl[]): string[] {
  return acl.map((a) => `${a.scheme}:${a.id}:${a.perms}`);
}

function qs(pairs: [string, string][]): string {
  return pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&');
}

const FLAG_FOR: Record<string, [string, string][]> = {
  PERSISTENT: [],
  EPHEMERAL: [['ephemeral', '']],
  PERSISTENT_SEQUENTIAL: [['sequential', '']],
  EPHEMERAL_SEQUENTIAL: [['ephemeral', ''], ['sequential', '']],
  CONTAINER: [['container', '']],
  PERSISTENT_WITH_TTL: [],
  PERSISTENT_SEQUENTIAL_WITH_TTL: [['sequential', '']],
};

export class ZkRest {
  constructor(readonly transport: Transport) {}

  private async json<T>(spec: RequestSpec): Promise<T> {
    const r: HttpResponse = await this.transport.request(spec);
    return r.body as T;
  }

  async create(path: string, data?: Data, o: CreateOptions = {}): Promise<{ path: string; stat: Stat }> {
    const mode = o.mode ?? 'PERSISTENT';
    const q: [string, string][] = [...(FLAG_FOR[mode] ?? [])];
    if (mode.endsWith('_WITH_TTL')) {
      if (o.ttlMs === undefined) throw new ZkClientError('BadArguments', `${mode} needs ttlMs`, { path });
      q.push(['ttl', String(o.ttlMs)]);
    }
    if (o.parents) q.push(['parents', '']);
    for (const a of aclStrings(o.acl ?? [])) q.push(['acl', a]);
    return this.json({ method: 'POST', url: znodeUrl('/v1/znodes', path) + qs(q), body: toBytes(data), contentType: 'application/octet-stream', idempotent: false });
  }

  async getData(path: string): Promise<DataResult> {
    const r = await this.json<{ path: string; data: string; encoding: Encoding; stat: Stat }>({
      method: 'GET',
      url: znodeUrl('/v1/znodes', path) + '?encoding=base64',
      idempotent: true,
    });
    return { path: r.path, data: fromWire(r.data, r.encoding), stat: r.stat };
  }

  /** getData as UTF-8 text. */
  async getString(path: string): Promise<{ path: string; data: string; stat: Stat }> {
    const r = await this.getData(path);
    return { path: r.path, data: new TextDecoder().decode(r.data), stat: r.stat };
  }

  /** The stat, or null when the node does not exist. */
  async exists(path: string): Promise<Stat | null> {
    try {
      return (await this.json<{ stat: Stat }>({ method: 'GET', url: znodeUrl('/v1/znodes', path) + '?stat', idempotent: true })).stat;
    } catch (e) {
      if (e instanceof ZkClientError && e.zkName === 'NoNode') return null;
      throw e;
    }
  }

  async getChildren(path: string, o: { linearizable?: boolean } = {}): Promise<ChildrenResult> {
    const q = o.linearizable ? '?children&consistency=linearizable' : '?children';
    return this.json({ method: 'GET', url: znodeUrl('/v1/znodes', path) + q, idempotent: true });
  }

  /**
   * A page of the children: at most `limit` (1–10000) names after `after` (the last of the previous page), and whether
   * more follow. getChildren answers only up to jute.maxbuffer bytes of names (BadArguments past it); pages list any
   * node, each read at its own zxid.
   */
  async getChildrenPage(path: string, page: { limit: number; after?: string }): Promise<ChildrenResult & { more: boolean }> {
    const q: [string, string][] = [['children', ''], ['limit', String(page.limit)]];
    if (page.after !== undefined) q.push(['after', page.after]);
    return this.json({ method: 'GET', url: znodeUrl('/v1/znodes', path) + qs(q), idempotent: true });
  }

  async setData(path: string, data: Data, version = -1): Promise<Stat> {
    const r = await this.json<{ stat: Stat }>({
      method: 'PUT',
      url: znodeUrl('/v1/znodes', path) + qs([['version', String(version)]]),
      body: toBytes(data),
      contentType: 'application/octet-stream',
      idempotent: false,
    });
    return r.stat;
  }

  async delete(path: string, version = -1, o: { recursive?: boolean } = {}): Promise<void> {
    const q: [string, string][] = [['version', String(version)]];
    if (o.recursive) q.push(['recursive', '']);
    await this.transport.request({ method: 'DELETE', url: znodeUrl('/v1/znodes', path) + qs(q), idempotent: false });
  }

  /** All or nothing; a failure throws the failing op's error with ZooKeeper's per-op `results`. */
  async multi(ops: MultiOp[]): Promise<MultiResult[]> {
    const wire = ops.map((o) => {
      switch (o.op) {
        case 'create':
          return { op: o.op, path: o.path, ...wireData(o.data), mode: o.mode, ttl: o.ttlMs, acl: o.acl };
        case 'set':
          return { op: o.op, path: o.path, ...wireData(o.data), version: o.version ?? -1 };
        case 'delete':
        case 'check':
          return { op: o.op, path: o.path, version: o.version ?? -1 };
      }
    });
    const r = await this.json<{ results: MultiResult[] }>({
      method: 'POST',
      url: '/v1/multi',
      body: JSON.stringify({ ops: wire }),
      contentType: 'application/json',
      idempotent: false,
    });
    return r.results;
  }

  /** multiRead: per-op results, never aborted. */
  async multiRead(ops: ReadOp[]): Promise<ReadResult[]> {
    const r = await this.json<{ results: ({ data: string; encoding: Encoding; stat: Stat } | { children: string[]; stat: Stat } | { error: never; code: number })[] }>({
      method: 'POST',
      url: '/v1/multi',
      body: JSON.stringify({ ops: ops.map((o) => ({ ...o, encoding: 'base64' })) }),
      contentType: 'application/json',
      idempotent: true,
    });
    return r.results.map((x) => ('data' in x ? { data: fromWire(x.data, x.encoding), stat: x.stat } : x));
  }

  async getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    return this.json({ method: 'GET', url: znodeUrl('/v1/acl', path), idempotent: true });
  }

  async setAcl(path: string, acl: Acl[], aversion = -1): Promise<Stat> {
    const r = await this.json<{ stat: Stat }>({
      method: 'PUT',
      url: znodeUrl('/v1/acl', path),
      body: JSON.stringify({ acl }),
      contentType: 'application/json',
      headers: aversion >= 0 ? { 'If-Match': String(aversion) } : {},
      idempotent: false,
    });
    return r.stat;
  }

  /** After it returns, the answering node has applied everything committed before the call. */
  async sync(): Promise<string> {
    return (await this.json<{ zxid: string }>({ method: 'POST', url: '/v1/sync', idempotent: true })).zxid;
  }

  async createSession(timeoutMs?: number): Promise<SessionInfo> {
    return this.json({
      method: 'POST',
      url: '/v1/sessions',
      body: JSON.stringify(timeoutMs === undefined ? {} : { timeoutMs }),
      contentType: 'application/json',
      withSession: false,
      // A session created twice is harmless: the unused one expires.
      idempotent: true,
    });
  }

  async keepalive(sessionId: string): Promise<SessionInfo> {
    return this.json({ method: 'POST', url: `/v1/sessions/${encodeURIComponent(sessionId)}/keepalive`, withSession: false, idempotent: true });
  }

  async getSession(sessionId: string): Promise<SessionInfo & { ephemerals: string[]; ephemeralsTruncated?: true }> {
    return this.json({ method: 'GET', url: `/v1/sessions/${encodeURIComponent(sessionId)}`, withSession: false, idempotent: true });
  }

  async closeSession(sessionId: string): Promise<void> {
    await this.transport.request({ method: 'DELETE', url: `/v1/sessions/${encodeURIComponent(sessionId)}`, withSession: false, idempotent: false });
  }

  /** A four-letter word (`srvr`, `mntr`, `cons`, …) as JSON; `ruok` answers `imok`. */
  async admin(word: string): Promise<unknown> {
    const r = await this.transport.request({ method: 'GET', url: `/v1/admin/${encodeURIComponent(word)}`, idempotent: true, withSession: false });
    return r.body ?? Buffer.from(r.bytes).toString('utf8');
  }
}
