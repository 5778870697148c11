// Small HTTP helpers for ensemble tests.
export interface Res {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function req(url: string, method = 'GET', body?: string, headers: Record<string, string> = {}): Promise<Res> {
  const r = await fetch(url, { method, body, headers, signal: AbortSignal.timeout(20000) });
  const text = await r.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

export async function children(base: string, path: string, minZxid?: string): Promise<string[]> {
  const r = await req(`${base}/v1/znodes${path}?children`, 'GET', undefined, minZxid ? { 'ZK-Min-Zxid': minZxid } : {});
  return (r.body.children as string[]) ?? [];
}

export async function retry<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    v = await fn();
  }
  return v;
}
