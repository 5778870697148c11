// The single-request writes (create, set, delete, setACL) and their generators: each is run against the server
// and applied to a copy of the model tree, which replaces the model only when the answers agree.
import fc from 'fast-check';
import { eq, expectError, expectEtag, expectStat, inWindow, keysOf, modelWrite, ok, refusedUnlogged, show, tally, writeZxid, zxidOf } from './checks.js';
import { Cmd } from './cmd.js';
import { contentTypeArb, createAtArb, dataArb, pathRefusal, refusedForSession, resolve, resolveCreateAt, resolveSession, resolveVersion, sessArb, sessionHeader, showCreateAt, showTarget, targetArb, verFormArb, verSelArb, versionRequest, type CreateAt, type SessSel, type Target, type VerForm, type VerSel } from './params.js';
import { TTL_MS, zurl, type Real } from './real.js';
import { cloneTree, mCreate, mDelete, mSet, type ErrName, type Kind, type MNode, type Model } from './zk-model.js';

interface CreateFlags {
  at: CreateAt;
  data: number[];
  kind: Kind;
  seq: boolean;
  parents: boolean;
  /** For kind ttl: a valid TTL, or 0 (BadArguments). */
  ttlValid: boolean;
  sess: SessSel | null;
  /** Send ZK-Session with a create that is not ephemeral too. */
  sessOnAll: boolean;
  /** A create with no flags may go the plain way (the fast write path) or with `?sequential=false` (the route). */
  plain: boolean;
  contentType: string | undefined;
}

class CreateCmd extends Cmd {
  constructor(readonly f: CreateFlags) {
    super();
  }
  describe(): string {
    const f = this.f;
    return `Create(${showCreateAt(f.at)} ${f.kind}${f.seq ? ' seq' : ''}${f.parents ? ' parents' : ''}${f.kind === 'ttl' && !f.ttlValid ? ' ttl=0' : ''} data=${Buffer.from(f.data).toString('hex')}${f.sess ? ` sess=${show(f.sess)}` : ''}${f.plain ? ' plain' : ''} ct=${f.contentType})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const f = this.f;
    const path = resolveCreateAt(m, f.at);
    const sess = f.kind === 'ephemeral' || f.sessOnAll ? resolveSession(m, f.sess) : undefined;
    const q: string[] = [];
    if (f.seq) q.push('sequential');
    if (f.kind === 'ephemeral') q.push('ephemeral');
    if (f.kind === 'container') q.push('container');
    if (f.kind === 'ttl') q.push(`ttl=${f.ttlValid ? TTL_MS : 0}`);
    if (f.parents) q.push('parents');
    if (q.length === 0 && !f.plain) q.push('sequential=false');
    const headers = { ...sessionHeader(sess, f.sess), ...(f.contentType ? { 'content-type': f.contentType } : {}) };
    const data = Buffer.from(f.data);
    const url = zurl(path, q.join('&'));
    this.sent = `POST ${url} ${show(headers)}`;
    const ctx = this.ctx();
    const t0 = Date.now();
    const res = await r.http.call('POST', url, headers, data);
    tally(this, res);
    const t1 = Date.now();

    // Refused before anything is proposed: a closed session (410), flags that do not go together, a bad TTL, an
    // ephemeral without a session, a name that is no path (BadArguments).
    let early: ErrName | undefined;
    if (refusedForSession(sess)) early = 'SessionExpired';
    else if (f.kind === 'container' && f.seq) early = 'BadArguments';
    else if (f.kind === 'ttl' && !f.ttlValid) early = 'BadArguments';
    else if (f.kind === 'ephemeral' && !sess) early = 'BadArguments';
    else early = pathRefusal(path, f.seq);
    if (early) {
      refusedUnlogged(ctx, m, res, r, early);
      return;
    }
    const z = zxidOf(ctx, res, r);
    const work = cloneTree(m.tree);
    const created = modelWrite(ctx, m, res, r, () =>
      mCreate(work, { path, data, kind: f.kind, seq: f.seq, parents: f.parents, ttl: f.kind === 'ttl' ? TTL_MS : 0, owner: sess?.id ?? '' }, { z, time: res.json?.stat?.ctime }),
    );
    if (created === undefined) return;
    eq(ctx, 'status', res.status, 201, r);
    writeZxid(ctx, m, res, r, true);
    inWindow(ctx, 'ctime', res.json.stat.ctime, t0, t1, r);
    m.tree = work;
    const n = m.tree.get(created) as MNode;
    eq(ctx, 'body keys', keysOf(res.json), ['path', 'stat'], r);
    eq(ctx, 'created path', res.json.path, created, r);
    expectStat(ctx, res.json.stat, n, r);
    expectEtag(ctx, res, 0, r);
    eq(ctx, 'Location', res.headers.location, zurl(created), r);
  }
}

export const createArb: fc.Arbitrary<Cmd> = fc
  .record({
    at: createAtArb,
    data: dataArb,
    kind: fc.constantFrom<Kind>('persistent', 'persistent', 'persistent', 'persistent', 'persistent', 'ephemeral', 'ephemeral', 'container', 'ttl'),
    seq: fc.constantFrom(false, false, true),
    parents: fc.boolean(),
    ttlValid: fc.constantFrom(true, true, true, true, true, false),
    sess: fc.option(sessArb, { freq: 4 }),
    sessOnAll: fc.constantFrom(false, false, false, true),
    plain: fc.boolean(),
    contentType: contentTypeArb,
  })
  .map((f) => new CreateCmd(f));

class SetCmd extends Cmd {
  constructor(
    readonly target: Target,
    readonly data: number[],
    readonly ver: VerSel,
    readonly form: VerForm,
    readonly salt: number,
    readonly sess: SessSel | null,
    readonly contentType: string | undefined,
  ) {
    super();
  }
  describe(): string {
    return `Set(${showTarget(this.target)} data=${Buffer.from(this.data).toString('hex')} ver=${this.ver}/${this.form}${this.sess ? ` sess=${show(this.sess)}` : ''} ct=${this.contentType})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const path = resolve(m, this.target);
    const sess = resolveSession(m, this.sess);
    const v = resolveVersion(m.tree.get(path), this.ver, this.salt);
    const vr = versionRequest(v, this.form);
    const headers = { ...vr.headers, ...sessionHeader(sess, this.sess), ...(this.contentType ? { 'content-type': this.contentType } : {}) };
    const url = zurl(path, vr.query.join('&'));
    const data = Buffer.from(this.data);
    this.sent = `PUT ${url} ${show(headers)}`;
    const ctx = this.ctx();
    const t0 = Date.now();
    const res = await r.http.call('PUT', url, headers, data);
    tally(this, res);
    const t1 = Date.now();
    if (refusedForSession(sess)) {
      refusedUnlogged(ctx, m, res, r, 'SessionExpired');
      return;
    }
    const z = zxidOf(ctx, res, r);
    const work = cloneTree(m.tree);
    const before = m.tree.get(path);
    const n = modelWrite(ctx, m, res, r, () => mSet(work, path, data, v ?? -1, { z, time: res.json?.stat?.mtime }));
    if (n === undefined) return;
    eq(ctx, 'status', res.status, 200, r);
    writeZxid(ctx, m, res, r, true);
    const mtime = inWindow(ctx, 'mtime', res.json.stat.mtime, t0, t1, r);
    ok(ctx, `mtime ${mtime} does not go back (was ${before?.mtime})`, mtime >= (before?.mtime ?? 0), r);
    m.tree = work;
    eq(ctx, 'body keys', keysOf(res.json), ['path', 'stat'], r);
    eq(ctx, 'path', res.json.path, path, r);
    expectStat(ctx, res.json.stat, n, r);
    expectEtag(ctx, res, n.version, r);
  }
}

export const setArb: fc.Arbitrary<Cmd> = fc
  .tuple(targetArb, dataArb, verSelArb, verFormArb, fc.nat(99), fc.option(sessArb, { freq: 1 }), contentTypeArb)
  .map(([t, d, v, f, s, sess, ct]) => new SetCmd(t, d, v, f, s, sess, ct));

class DeleteCmd extends Cmd {
  constructor(
    readonly target: Target,
    readonly ver: VerSel,
    readonly form: VerForm,
    readonly salt: number,
    readonly recursive: boolean,
    readonly sess: SessSel | null,
  ) {
    super();
  }
  describe(): string {
    return `Delete(${showTarget(this.target)} ver=${this.ver}/${this.form}${this.recursive ? ' recursive' : ''}${this.sess ? ` sess=${show(this.sess)}` : ''})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const path = resolve(m, this.target);
    const sess = resolveSession(m, this.sess);
    const v = resolveVersion(m.tree.get(path), this.ver, this.salt);
    const vr = versionRequest(v, this.form);
    if (this.recursive) vr.query.push('recursive');
    const headers = { ...vr.headers, ...sessionHeader(sess, this.sess) };
    const url = zurl(path, vr.query.join('&'));
    this.sent = `DELETE ${url} ${show(headers)}`;
    const ctx = this.ctx();
    const res = await r.http.call('DELETE', url, headers);
    tally(this, res);
    if (refusedForSession(sess)) {
      refusedUnlogged(ctx, m, res, r, 'SessionExpired');
      return;
    }
    const z = zxidOf(ctx, res, r);
    const work = cloneTree(m.tree);
    if (!modelWrite(ctx, m, res, r, () => (mDelete(work, path, v ?? -1, this.recursive, { z, time: NaN }), true))) return;
    eq(ctx, 'status', res.status, 204, r);
    eq(ctx, 'body', res.raw.length, 0, r);
    writeZxid(ctx, m, res, r, true);
    m.tree = work;
  }
}

export const deleteArb: fc.Arbitrary<Cmd> = fc
  .tuple(targetArb, verSelArb, verFormArb, fc.nat(99), fc.constantFrom(false, false, true), fc.option(sessArb, { freq: 1 }))
  .map(([t, v, f, s, rec, sess]) => new DeleteCmd(t, v, f, s, rec, sess));

/** setACL with the same open ACL: only aversion moves (not mzxid, version or mtime). */
class SetAclCmd extends Cmd {
  constructor(
    readonly target: Target,
    readonly ver: VerSel,
    readonly form: VerForm,
    readonly salt: number,
  ) {
    super();
  }
  describe(): string {
    return `SetAcl(${showTarget(this.target)} aversion=${this.ver}/${this.form})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const path = resolve(m, this.target);
    const before = m.tree.get(path);
    const v = resolveVersion(before && { version: before.aversion }, this.ver, this.salt);
    const vr = versionRequest(v, this.form);
    const url = '/v1/acl' + path + (vr.query.length ? '?' + vr.query.join('&') : '');
    const headers = { ...vr.headers, 'content-type': 'application/json' };
    this.sent = `PUT ${url} ${show(headers)}`;
    const ctx = this.ctx();
    const res = await r.http.call('PUT', url, headers, JSON.stringify({ acl: [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }] }));
    tally(this, res);
    let err: ErrName | undefined;
    if (!before) err = 'NoNode';
    else if (before.readOnly) err = 'NoAuth';
    else if (v !== undefined && v !== -1 && v !== before.aversion) err = 'BadVersion';
    if (err) {
      expectError(ctx, res, err, r);
      writeZxid(ctx, m, res, r, true);
      return;
    }
    eq(ctx, 'status', res.status, 200, r);
    writeZxid(ctx, m, res, r, true);
    const n = before as MNode;
    n.aversion++;
    eq(ctx, 'acl', res.json.acl, [{ scheme: 'world', id: 'anyone', perms: 'cdrwa' }], r);
    expectStat(ctx, res.json.stat, n, r);
    eq(ctx, 'ETag (the aversion)', res.headers.etag, `"${n.aversion}"`, r);
  }
}

export const setAclArb: fc.Arbitrary<Cmd> = fc.tuple(targetArb, verSelArb, verFormArb, fc.nat(99)).map(([t, v, f, s]) => new SetAclCmd(t, v, f, s));
