// How a server answer is held against the model: the Divergence every mismatch throws, the field checks,
// the zxid rules, and the whole-tree and whole-session walks that commands and the runner share.
import { isUtf8 } from 'node:buffer';
import { SESSION_TIMEOUT_MS, zurl, type Real, type Resp } from './real.js';
import { byUtf8, CODE, join, statOf, STATUS, ZkFail, type ErrName, type MNode, type Model, type Stat } from './zk-model.js';

// ---------------------------------------------------------------------------------------------------------------
// Checks

export class Divergence extends Error {}

/** How often each command met each answer: what the sequences covered (printed as a comment). */
export const TALLY = new Map<string, number>();
export function tally(cmd: object, res: Resp): void {
  const key = `${cmd.constructor.name.replace(/Cmd$/, '')} ${res.status}${res.json?.error ? ' ' + String(res.json.error) : ''}`;
  TALLY.set(key, (TALLY.get(key) ?? 0) + 1);
}

export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (Buffer.isBuffer(x) ? `<bytes ${x.toString('hex')}>` : x));
}

/** Deep equality with object keys compared as sets (JSON key order carries no meaning). */
export function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, canon(o[k])]),
    );
  }
  return v;
}

export function eq(ctx: string, what: string, got: unknown, want: unknown, r?: Real): void {
  if (JSON.stringify(canon(got)) !== JSON.stringify(canon(want))) {
    throw new Divergence(`${ctx}: ${what}\n  server: ${show(got)}\n  model:  ${show(want)}${r ? `\n  last exchange: ${r.http.last}` : ''}`);
  }
}

export function ok(ctx: string, what: string, cond: boolean, r?: Real): void {
  if (!cond) throw new Divergence(`${ctx}: ${what}${r ? `\n  last exchange: ${r.http.last}` : ''}`);
}

export function zxidOf(ctx: string, res: Resp, r: Real): number {
  const h = res.headers['zk-zxid'];
  ok(ctx, `ZK-Zxid is a decimal zxid (got ${h})`, h !== undefined && /^\d+$/.test(h), r);
  return Number(h);
}

/** A read: the node reports the last zxid written (nothing else writes). */
export function readZxid(ctx: string, m: Model, res: Resp, r: Real): void {
  eq(ctx, 'ZK-Zxid of a read is the last zxid written', zxidOf(ctx, res, r), m.zxid, r);
}

/**
 * A write's answer: `consumes` (a success, or a failure found against the state: README "a failed write still
 * consumes a zxid") means a zxid above every earlier one; a request refused before it is proposed may not move it.
 */
export function writeZxid(ctx: string, m: Model, res: Resp, r: Real, consumes: boolean): number {
  const z = zxidOf(ctx, res, r);
  if (consumes) ok(ctx, `zxid ${z} of this write is above the previous write's ${m.zxid}`, z > m.zxid, r);
  else ok(ctx, `zxid ${z} does not go back from ${m.zxid}`, z >= m.zxid, r);
  m.zxid = z;
  return z;
}

export function expectError(ctx: string, res: Resp, err: ErrName, r: Real): void {
  eq(ctx, 'status and error', [res.status, res.json?.error, res.json?.code], [STATUS[err], err, CODE[err]], r);
  ok(ctx, `error body has a message (${show(res.json)})`, typeof res.json?.message === 'string', r);
  const allowed = new Set(['error', 'code', 'message', 'path', 'results']);
  ok(ctx, `error body has only {error, code, message, path?} (${show(res.json)})`, Object.keys(res.json).every((k) => allowed.has(k)), r);
}

/** Every stat field, exactly; the key set too. */
export function expectStat(ctx: string, got: unknown, n: MNode | Stat, r: Real, what = 'stat'): void {
  eq(ctx, what, got, 'children' in n ? statOf(n) : n, r);
}

export function expectEtag(ctx: string, res: Resp, version: number, r: Real): void {
  eq(ctx, 'ETag', res.headers.etag, `"${version}"`, r);
}

export function inWindow(ctx: string, what: string, time: unknown, t0: number, t1: number, r: Real): number {
  ok(ctx, `${what} ${String(time)} lies within the request's time window [${t0}, ${t1}]`, typeof time === 'number' && time >= t0 && time <= t1, r);
  return time as number;
}

function decoded(ctx: string, body: { data?: unknown; encoding?: unknown }, r: Real): Buffer {
  ok(ctx, `encoding is utf8 or base64 (${show(body.encoding)})`, body.encoding === 'utf8' || body.encoding === 'base64', r);
  return Buffer.from(String(body.data), body.encoding === 'utf8' ? 'utf8' : 'base64');
}

/** GET's data: utf8 when the bytes are valid UTF-8 and base64 was not asked, else base64 (API.md §3). */
export function expectData(ctx: string, body: { data?: unknown; encoding?: unknown }, want: Buffer, forceBase64: boolean, r: Real): void {
  eq(ctx, 'encoding', body.encoding, !forceBase64 && isUtf8(want) ? 'utf8' : 'base64', r);
  eq(ctx, 'data', decoded(ctx, body, r).toString('hex'), want.toString('hex'), r);
}

export function keysOf(v: unknown): string[] {
  return v && typeof v === 'object' ? Object.keys(v).sort() : [];
}

/** The whole tree, walked through the server (children, data, stat of every node), against the model. */
export async function walk(ctx: string, m: Model, r: Real): Promise<void> {
  const seen = new Set<string>();
  const queue = ['/'];
  while (queue.length > 0) {
    const p = queue.shift() as string;
    seen.add(p);
    const n = m.tree.get(p);
    const c = await r.http.call('GET', zurl(p, 'children'));
    ok(ctx, `walk: the server has ${p}, the model does not (status ${c.status})`, n !== undefined, r);
    const node = n as MNode;
    eq(ctx, `walk: ${p}?children status`, c.status, 200, r);
    readZxid(ctx, m, c, r);
    eq(ctx, `walk: children of ${p}`, c.json.children, [...node.children].sort(byUtf8), r);
    expectStat(ctx, c.json.stat, node, r, `walk: stat of ${p}`);
    const d = await r.http.call('GET', zurl(p));
    eq(ctx, `walk: GET ${p} status`, d.status, 200, r);
    readZxid(ctx, m, d, r);
    expectEtag(ctx, d, node.version, r);
    expectData(ctx, d.json, node.data, false, r);
    expectStat(ctx, d.json.stat, node, r, `walk: stat of ${p} (getData)`);
    for (const name of c.json.children as string[]) queue.push(join(p, name));
  }
  for (const p of m.tree.keys()) ok(ctx, `walk: the model has ${p}, the server does not list it`, seen.has(p), r);
}

/** Every session: open ones answer with their ephemerals, closed ones 410. */
export async function checkSessions(ctx: string, m: Model, r: Real): Promise<void> {
  for (const s of m.sessions) {
    const res = await r.http.call('GET', `/v1/sessions/${s.id}`);
    if (!s.open) {
      expectError(`${ctx} GET session ${s.id}`, res, 'SessionExpired', r);
      continue;
    }
    eq(ctx, `GET session ${s.id} status`, res.status, 200, r);
    eq(ctx, `GET session ${s.id}`, { ...res.json, ephemerals: [...(res.json.ephemerals as string[])].sort(byUtf8) }, { sessionId: s.id, timeoutMs: SESSION_TIMEOUT_MS, ephemerals: m.ephemeralsOf(s.id) }, r);
  }
}

/**
 * The model's answer to a write the server has answered: `op`'s value, or undefined when the model refuses the write,
 * in which case the server must have refused it with the same error (having taken a zxid for it, as a failed write does).
 */
export function modelWrite<T>(ctx: string, m: Model, res: Resp, r: Real, op: () => T): T | undefined {
  try {
    return op();
  } catch (e) {
    if (!(e instanceof ZkFail)) throw e;
    expectError(ctx, res, e.zk, r);
    writeZxid(ctx, m, res, r, true);
    return undefined;
  }
}

/** A write the server must refuse before it reaches the log: that error, and no zxid taken for it. */
export function refusedUnlogged(ctx: string, m: Model, res: Resp, r: Real, err: ErrName): void {
  expectError(ctx, res, err, r);
  writeZxid(ctx, m, res, r, false);
}
