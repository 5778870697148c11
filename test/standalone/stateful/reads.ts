// The read commands (getData in each form, ?children, ?stat, HEAD, multiRead): they change nothing, so each
// checks the answer and the read's ZK-Zxid against the model as it stands.
import fc from 'fast-check';
import { eq, expectData, expectError, expectEtag, expectStat, keysOf, readZxid, show, tally } from './checks.js';
import { Cmd } from './cmd.js';
import { refusedForSession, resolve, resolveSession, sessArb, sessionHeader, showTarget, targetArb, type SessSel, type Target } from './params.js';
import { zurl, type Real } from './real.js';
import { byUtf8, CODE, type Model } from './zk-model.js';

// ---- reads

type ReadKind = 'plain' | 'base64' | 'octets' | 'children' | 'stat' | 'head';

class ReadCmd extends Cmd {
  constructor(
    readonly target: Target,
    readonly kind: ReadKind,
    readonly sess: SessSel | null,
  ) {
    super();
  }
  describe(): string {
    return `Read(${showTarget(this.target)} ${this.kind}${this.sess ? ` sess=${show(this.sess)}` : ''})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const path = resolve(m, this.target);
    const sess = resolveSession(m, this.sess);
    const headers: Record<string, string> = { ...sessionHeader(sess, this.sess), ...(this.kind === 'octets' ? { accept: 'application/octet-stream' } : {}) };
    const query = this.kind === 'base64' ? 'encoding=base64' : this.kind === 'children' || this.kind === 'stat' ? this.kind : '';
    const method = this.kind === 'head' ? 'HEAD' : 'GET';
    const url = zurl(path, query);
    this.sent = `${method} ${url} ${show(headers)}`;
    const ctx = this.ctx();
    const res = await r.http.call(method, url, headers);
    tally(this, res);
    readZxid(ctx, m, res, r);
    if (refusedForSession(sess)) {
      if (this.kind === 'head') eq(ctx, 'status', res.status, 410, r);
      else expectError(ctx, res, 'SessionExpired', r);
      return;
    }
    const n = m.tree.get(path);
    if (!n) {
      if (this.kind === 'head') {
        eq(ctx, 'status', res.status, 404, r);
        eq(ctx, 'HEAD has no body', res.raw.length, 0, r);
      } else expectError(ctx, res, 'NoNode', r);
      return;
    }
    eq(ctx, 'status', res.status, 200, r);
    switch (this.kind) {
      case 'plain':
      case 'base64':
        eq(ctx, 'body keys', keysOf(res.json), ['data', 'encoding', 'path', 'stat'], r);
        eq(ctx, 'path', res.json.path, path, r);
        expectData(ctx, res.json, n.data, this.kind === 'base64', r);
        expectStat(ctx, res.json.stat, n, r);
        expectEtag(ctx, res, n.version, r);
        break;
      case 'octets':
        eq(ctx, 'content-type', res.headers['content-type'], 'application/octet-stream', r);
        eq(ctx, 'raw bytes', res.raw.toString('hex'), n.data.toString('hex'), r);
        expectStat(ctx, JSON.parse(res.headers['zk-stat'] ?? 'null'), n, r, 'ZK-Stat');
        expectEtag(ctx, res, n.version, r);
        break;
      case 'children':
        eq(ctx, 'body keys', keysOf(res.json), ['children', 'path', 'stat'], r);
        eq(ctx, 'path', res.json.path, path, r);
        eq(ctx, 'children (sorted)', res.json.children, [...n.children].sort(byUtf8), r);
        expectStat(ctx, res.json.stat, n, r);
        break;
      case 'stat':
        eq(ctx, 'body keys', keysOf(res.json), ['path', 'stat'], r);
        eq(ctx, 'path', res.json.path, path, r);
        expectStat(ctx, res.json.stat, n, r);
        break;
      case 'head':
        eq(ctx, 'HEAD has no body', res.raw.length, 0, r);
        expectStat(ctx, JSON.parse(res.headers['zk-stat'] ?? 'null'), n, r, 'ZK-Stat');
        expectEtag(ctx, res, n.version, r);
        break;
    }
  }
}

export const readArb: fc.Arbitrary<Cmd> = fc
  .tuple(targetArb, fc.constantFrom<ReadKind>('plain', 'plain', 'base64', 'octets', 'children', 'children', 'stat', 'head'), fc.option(sessArb, { freq: 1 }))
  .map(([t, k, s]) => new ReadCmd(t, k, s));

/** multiRead: per-op results, never aborted (API.md §3). */
class MultiReadCmd extends Cmd {
  constructor(readonly ops: { t: Target; children: boolean; base64: boolean }[]) {
    super();
  }
  describe(): string {
    return `MultiRead(${this.ops.map((o) => `${o.children ? 'children' : 'get'} ${showTarget(o.t)}${o.base64 ? ' base64' : ''}`).join(', ')})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const ops = this.ops.map((o) => ({ ...o, path: resolve(m, o.t) }));
    const body = JSON.stringify({ ops: ops.map((o) => (o.children ? { op: 'children', path: o.path } : { op: 'get', path: o.path, ...(o.base64 ? { encoding: 'base64' } : {}) })) });
    this.sent = `POST /v1/multi ${body}`;
    const ctx = this.ctx();
    const res = await r.http.call('POST', '/v1/multi', { 'content-type': 'application/json' }, body);
    tally(this, res);
    readZxid(ctx, m, res, r);
    eq(ctx, 'status', res.status, 200, r);
    const results = res.json.results as Record<string, unknown>[];
    eq(ctx, 'result count', results.length, ops.length, r);
    ops.forEach((o, i) => {
      const got = results[i] as { data?: unknown; encoding?: unknown; children?: unknown; stat?: unknown };
      const n = m.tree.get(o.path);
      if (!n) return eq(ctx, `result ${i}`, got, { error: 'NoNode', code: CODE.NoNode }, r);
      expectStat(ctx, got.stat, n, r, `result ${i} stat`);
      if (o.children) {
        eq(ctx, `result ${i} keys`, keysOf(got), ['children', 'stat'], r);
        eq(ctx, `result ${i} children`, got.children, [...n.children].sort(byUtf8), r);
      } else {
        eq(ctx, `result ${i} keys`, keysOf(got), ['data', 'encoding', 'stat'], r);
        expectData(ctx, got, n.data, o.base64, r);
      }
    });
  }
}

export const multiReadArb: fc.Arbitrary<Cmd> = fc
  .array(fc.record({ t: targetArb, children: fc.boolean(), base64: fc.boolean() }), { minLength: 1, maxLength: 4 })
  .map((ops) => new MultiReadCmd(ops));
