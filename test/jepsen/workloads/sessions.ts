// Session clients: open a short session, create a few ephemerals under it (keepalives in between), probe
// them with linearizable reads followed by a keepalive, then close the session or abandon it to expire,
// and probe again once it is known dead.
import type { SessionOp } from '../history.js';
import { NOT_APPLIED } from '../checker/registers.js';
import { call, sleep, type Answer } from '../http.js';
import { pickNode, znode, type WorkloadContext } from './context.js';

export const EPHEMERAL_ROOT = '/jepsen/e';

export interface SessionsOptions {
  sessionTimeoutMs: number;
  ephemeralsPerSession: number;
}

function outcome(a: Answer): { outcome: 'ok' | 'fail' | 'unknown'; error?: string } {
  if (a.kind === 'ok') return { outcome: 'ok' };
  if (a.kind === 'error') return { outcome: 'fail', error: a.error };
  if (a.kind === 'not-applied') return { outcome: 'fail', error: NOT_APPLIED };
  return { outcome: 'unknown', error: a.error };
}

export async function sessionClient(ctx: WorkloadContext, o: SessionsOptions, opened: string[]): Promise<void> {
  const client = ctx.history.newClient();
  const H = ctx.history;
  // Every request carries the last zxid this client saw (API.md §3), so a lagging node waits instead of
  // answering from before the session existed.
  let seen = 0;
  const hdr = (extra: Record<string, string> = {}) => ({ 'ZK-Min-Zxid': String(seen), ...extra });
  const op = async (f: SessionOp['f'], session: string | undefined, path: string | undefined, run: (url: string) => Promise<Answer>) => {
    const [node, url] = pickNode(ctx);
    const rec = H.invoke<SessionOp>({ type: 'session', f, client, node, session, path });
    const a = await run(url);
    const r = outcome(a);
    H.complete(rec, r.outcome, { error: r.error, zxid: a.zxid });
    if ((a.kind === 'ok' || a.kind === 'error') && a.zxid !== undefined) seen = Math.max(seen, a.zxid);
    return { rec, a };
  };
  const probe = async (session: string, paths: string[]) => {
    const [node, url] = pickNode(ctx);
    const rec = H.invoke<SessionOp>({ type: 'session', f: 'probe', client, node, session });
    const present: string[] = [];
    const absent: string[] = [];
    for (const p of paths) {
      const a = await call(`${url}${znode(p)}?consistency=linearizable`, 'GET', { headers: hdr(), timeoutMs: ctx.opTimeoutMs });
      // What the probe saw must bound what the next keepalive is answered from (a follower that has not yet
      // applied an expiry the probe already saw would otherwise still confirm the session).
      if ((a.kind === 'ok' || a.kind === 'error') && a.zxid !== undefined) seen = Math.max(seen, a.zxid);
      if (a.kind === 'ok') present.push(p);
      else if (a.kind === 'error' && a.error === 'NoNode') absent.push(p);
      else return void H.complete(rec, 'fail', { error: a.error ?? a.kind });
    }
    H.complete(rec, 'ok', { present, absent });
  };
  while (!ctx.stopped()) {
    const { rec: open, a } = await op('open', undefined, undefined, (url) =>
      call(`${url}/v1/sessions`, 'POST', { body: JSON.stringify({ timeoutMs: o.sessionTimeoutMs }), headers: hdr({ 'content-type': 'application/json' }), timeoutMs: ctx.opTimeoutMs }),
    );
    if (open.outcome !== 'ok') {
      await sleep(ctx.thinkMs * 5);
      continue;
    }
    const sid = String(a.body.sessionId);
    open.session = sid;
    opened.push(sid);
    const paths: string[] = [];
    let dead = false;
    for (let k = 0; k < o.ephemeralsPerSession && !ctx.stopped() && !dead; k++) {
      const path = `${EPHEMERAL_ROOT}/${sid}-${k}`;
      const { rec } = await op('ephemeral', sid, path, (url) => call(`${url}${znode(path)}?ephemeral`, 'POST', { body: 'e', headers: hdr({ 'ZK-Session': sid }), timeoutMs: ctx.opTimeoutMs }));
      if (rec.outcome !== 'fail' || rec.error !== NOT_APPLIED) paths.push(path);
      if (rec.error === 'SessionExpired') dead = true;
      const ka = await op('keepalive', sid, undefined, (url) => call(`${url}/v1/sessions/${sid}/keepalive`, 'POST', { headers: hdr(), timeoutMs: ctx.opTimeoutMs }));
      if (ka.rec.error === 'SessionExpired') dead = true;
    }
    if (!dead) {
      await probe(sid, paths);
      const ka = await op('keepalive', sid, undefined, (url) => call(`${url}/v1/sessions/${sid}/keepalive`, 'POST', { headers: hdr(), timeoutMs: ctx.opTimeoutMs }));
      if (ka.rec.error === 'SessionExpired') dead = true;
    }
    if (!dead && ctx.rand.float() < 0.5) {
      const c = await op('close', sid, undefined, (url) => call(`${url}/v1/sessions/${sid}`, 'DELETE', { headers: hdr(), timeoutMs: ctx.opTimeoutMs }));
      dead = c.rec.outcome === 'ok';
    } else if (!dead) {
      // Abandoned: no more keepalives. Learn of its expiry with a keepalive after the timeout.
      await sleep(o.sessionTimeoutMs * 2.5);
      const ka = await op('keepalive', sid, undefined, (url) => call(`${url}/v1/sessions/${sid}/keepalive`, 'POST', { headers: hdr(), timeoutMs: ctx.opTimeoutMs }));
      dead = ka.rec.error === 'SessionExpired';
    }
    if (dead) await probe(sid, paths);
    await sleep(ctx.thinkMs);
  }
}
