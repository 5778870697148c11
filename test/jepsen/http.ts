// One HTTP call from a workload client, classified for the history: a definite answer (ok, or a
// ZooKeeper error), "not applied" (refused connection, or 503 with applied:false), or unknown (timeout,
// reset, any other 503: the write may still take effect).
export interface Answer {
  kind: 'ok' | 'error' | 'not-applied' | 'unknown';
  status: number;
  body: Record<string, unknown>;
  /** ZK-Zxid of the answer. */
  zxid?: number;
  error?: string;
}

export interface CallOptions {
  body?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

function refused(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED';
}

export async function call(url: string, method: string, o: CallOptions): Promise<Answer> {
  let r: Response;
  let text: string;
  try {
    r = await fetch(url, { method, body: o.body, headers: o.headers, signal: AbortSignal.timeout(o.timeoutMs) });
    text = await r.text();
  } catch (e) {
    if (refused(e)) return { kind: 'not-applied', status: 0, body: {}, error: 'ECONNREFUSED' };
    const name = (e as Error).name === 'TimeoutError' ? 'timeout' : ((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message);
    return { kind: 'unknown', status: 0, body: {}, error: name };
  }
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { text };
  }
  const z = r.headers.get('zk-zxid');
  const zxid = z === null ? undefined : Number(z);
  if (r.status < 300) return { kind: 'ok', status: r.status, body, zxid };
  const error = typeof body.error === 'string' ? body.error : `HTTP ${r.status}`;
  if (r.status === 503) return { kind: body.applied === false ? 'not-applied' : 'unknown', status: r.status, body, zxid, error };
  if (r.status >= 500) return { kind: 'unknown', status: r.status, body, zxid, error: `HTTP ${r.status} ${error}` };
  return { kind: 'error', status: r.status, body, zxid, error };
}

export interface Stat {
  version: number;
  mzxid: number;
  czxid: number;
  ephemeralOwner: string;
}

export function statOf(body: Record<string, unknown>): Stat | undefined {
  const s = body.stat as Record<string, unknown> | undefined;
  if (!s) return undefined;
  return { version: Number(s.version), mzxid: Number(s.mzxid), czxid: Number(s.czxid), ephemeralOwner: String(s.ephemeralOwner) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
