// A queue on sequential znodes: enqueue = create /jepsen/q/e-NNNNNNNNNN; dequeue = read the lowest child's
// data, then delete it (the delete's success is the dequeue).
import type { QueueOp } from '../history.js';
import { NOT_APPLIED } from '../checker/registers.js';
import { call, sleep } from '../http.js';
import { pickNode, znode, type WorkloadContext } from './context.js';

export const QUEUE_ROOT = '/jepsen/q';

function finish(ctx: WorkloadContext, rec: QueueOp, kind: string, error: string | undefined, extra: Partial<QueueOp> = {}): void {
  if (kind === 'ok') ctx.history.complete(rec, 'ok', extra);
  else if (kind === 'error') ctx.history.complete(rec, 'fail', { ...extra, error });
  else if (kind === 'not-applied') ctx.history.complete(rec, 'fail', { ...extra, error: NOT_APPLIED });
  else ctx.history.complete(rec, 'unknown', { ...extra, error });
}

export async function queueClient(ctx: WorkloadContext): Promise<void> {
  let client = ctx.history.newClient();
  let seq = 0;
  let minZxid = 0;
  const headers = () => ({ 'ZK-Min-Zxid': String(minZxid) });
  while (!ctx.stopped()) {
    const [node, url] = pickNode(ctx);
    if (ctx.rand.float() < 0.55) {
      const value = `q${client}-${seq++}`;
      const rec = ctx.history.invoke<QueueOp>({ type: 'queue', f: 'enqueue', client, node, value });
      const a = await call(`${url}${znode(`${QUEUE_ROOT}/e-`)}?sequential`, 'POST', { body: value, timeoutMs: ctx.opTimeoutMs });
      const path = typeof a.body.path === 'string' ? a.body.path : undefined;
      finish(ctx, rec, a.kind, a.error, { path, zxid: a.zxid });
      if (a.kind === 'ok' && a.zxid) minZxid = Math.max(minZxid, a.zxid);
      if (rec.outcome === 'unknown') client = ctx.history.newClient();
    } else {
      const list = await call(`${url}${znode(QUEUE_ROOT)}?children`, 'GET', { headers: headers(), timeoutMs: ctx.opTimeoutMs });
      const children = Array.isArray(list.body.children) ? (list.body.children as string[]) : [];
      if (list.kind === 'ok' && list.zxid) minZxid = Math.max(minZxid, list.zxid);
      const head = children[0];
      if (head) {
        const got = await call(`${url}${znode(`${QUEUE_ROOT}/${head}`)}`, 'GET', { headers: headers(), timeoutMs: ctx.opTimeoutMs });
        if (got.kind === 'ok') {
          const value = String(got.body.data);
          const rec = ctx.history.invoke<QueueOp>({ type: 'queue', f: 'dequeue', client, node, value, path: `${QUEUE_ROOT}/${head}` });
          const a = await call(`${url}${znode(`${QUEUE_ROOT}/${head}`)}`, 'DELETE', { timeoutMs: ctx.opTimeoutMs });
          finish(ctx, rec, a.kind, a.error, { zxid: a.zxid });
          if (a.kind === 'ok' && a.zxid) minZxid = Math.max(minZxid, a.zxid);
          if (rec.outcome === 'unknown') client = ctx.history.newClient();
        }
      }
    }
    await sleep(ctx.thinkMs);
  }
}
