// Register clients: create, set (with and without an expected version), delete (with and without),
// linearizable gets and plain reads on a few znodes, each recorded with its outcome.
import type { RegisterOp } from '../history.js';
import { NOT_APPLIED } from '../checker/registers.js';
import { call, sleep, statOf } from '../http.js';
import { pickNode, znode, type WorkloadContext } from './context.js';

export const REGISTER_ROOT = '/jepsen/r';

export function registerKeys(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `k${i}`);
}

type F = RegisterOp['f'];

/** One register operation against `url`, recorded in the history. */
export async function registerOp(ctx: WorkloadContext, client: number, node: number, url: string, f: F, key: string, value: string | undefined, version: number | undefined, minZxid: number): Promise<RegisterOp> {
  const rec = ctx.history.invoke<RegisterOp>({ type: 'register', client, node, f, key, value, version, minZxid });
  const path = `${url}${znode(`${REGISTER_ROOT}/${key}`)}`;
  // Reads carry the client's last seen zxid (ZooKeeper's client does the same when it switches servers).
  const headers: Record<string, string> = f === 'read' || f === 'get' ? { 'ZK-Min-Zxid': String(minZxid) } : {};
  if (version !== undefined) headers['If-Match'] = String(version);
  const method = f === 'create' ? 'POST' : f === 'set' ? 'PUT' : f === 'delete' ? 'DELETE' : 'GET';
  const target = f === 'get' ? `${path}?consistency=linearizable` : path;
  const a = await call(target, method, { body: value, headers, timeoutMs: ctx.opTimeoutMs });
  const stat = statOf(a.body);
  const extra: Partial<RegisterOp> = { zxid: a.zxid };
  if (stat) Object.assign(extra, { gotVersion: stat.version, mzxid: stat.mzxid });
  if ((f === 'get' || f === 'read') && a.kind === 'ok') extra.gotValue = String(a.body.data);
  if (a.kind === 'ok') ctx.history.complete(rec, 'ok', extra);
  else if (a.kind === 'error') ctx.history.complete(rec, 'fail', { ...extra, error: a.error });
  else if (a.kind === 'not-applied') ctx.history.complete(rec, 'fail', { ...extra, error: NOT_APPLIED });
  else ctx.history.complete(rec, 'unknown', { ...extra, error: a.error });
  return rec;
}

export async function registerClient(ctx: WorkloadContext, keys: string[]): Promise<void> {
  let client = ctx.history.newClient();
  let seq = 0;
  let minZxid = 0;
  const versions = new Map<string, number>();
  while (!ctx.stopped()) {
    const [node, url] = pickNode(ctx);
    const key = ctx.rand.pick(keys);
    const x = ctx.rand.float();
    const f: F = x < 0.25 ? 'read' : x < 0.45 ? 'get' : x < 0.7 ? 'set' : x < 0.85 ? 'create' : 'delete';
    const value = f === 'create' || f === 'set' ? `c${client}-${seq++}` : undefined;
    // Half of the sets and deletes are conditional on the version this client last saw.
    const conditional = (f === 'set' || f === 'delete') && ctx.rand.float() < 0.5;
    const version = conditional ? (versions.get(key) ?? 0) : undefined;
    const rec = await registerOp(ctx, client, node, url, f, key, value, version, minZxid);
    if (rec.zxid !== undefined && rec.outcome === 'ok') minZxid = Math.max(minZxid, rec.zxid);
    if (rec.gotVersion !== undefined) versions.set(key, rec.gotVersion);
    // After an unknown outcome this client's operation stays open forever: continue as a new client.
    if (rec.outcome === 'unknown') client = ctx.history.newClient();
    await sleep(ctx.thinkMs);
  }
}
