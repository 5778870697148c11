// Batches of concurrent requests: the model cannot know the server's order, so every order is tried and
// one that explains every answer, and the state read back afterwards, is kept.
import fc from 'fast-check';
import { canon, Divergence, eq, expectData, expectError, expectStat, inWindow, ok, show, tally, zxidOf } from './checks.js';
import { Cmd } from './cmd.js';
import { multiCreateAtArb, multiTargetArb } from './multi.js';
import { dataArb, pathRefusal, resolve, resolveCreateAt, resolveVersion, showCreateAt, showTarget, verSelArb, type CreateAt, type Target, type VerSel } from './params.js';
import { zurl, type Real, type Resp } from './real.js';
import { byUtf8, cloneTree, mCreate, mDelete, mSet, removeNode, statOf, ZkFail, type MNode, type Model, type MSession, type Stat, type Tree } from './zk-model.js';

// ---- concurrent writes and reads

type COp =
  | { op: 'create'; at: CreateAt; data: number[]; seq: boolean; eph: boolean; plain: boolean }
  | { op: 'set'; t: Target; data: number[]; ver: VerSel; salt: number }
  | { op: 'delete'; t: Target; ver: VerSel; salt: number }
  | { op: 'read'; t: Target; children: boolean }
  | { op: 'close' };

const cOpArb: fc.Arbitrary<COp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('create' as const), at: multiCreateAtArb, data: dataArb, seq: fc.boolean(), eph: fc.constantFrom(false, false, true), plain: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), t: multiTargetArb, data: dataArb, ver: verSelArb, salt: fc.nat(99) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), t: multiTargetArb, ver: verSelArb, salt: fc.nat(99) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('read' as const), t: multiTargetArb, children: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
);

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}

/**
 * 2–4 requests at once (creates, sets, deletes, reads; plain ones take the fast paths), which the server may put in
 * one group commit. Some order of them must explain every answer (each op's outcome, path and stat, each read's
 * view), with the successful writes' zxids increasing in that order; the state is then that order's. A delete's
 * zxid is in no answer: its parent's pzxid is read afterwards and must be one of the batch's zxids.
 */
class ConcurrentCmd extends Cmd {
  constructor(readonly ops: COp[]) {
    super();
  }
  describe(): string {
    return `Concurrent(${show(this.ops.map((o) => ({ ...o, ...('t' in o ? { t: showTarget(o.t) } : {}), ...('at' in o ? { at: showCreateAt(o.at) } : {}) })))})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const sess = m.sessions.find((x) => x.open);
    interface Req {
      o: COp;
      path: string;
      v?: number;
      method: string;
      url: string;
      headers: Record<string, string>;
      body: Buffer | undefined;
      eph: boolean;
    }
    // `close` closes the session the ephemeral creates of the batch use (without one, it reads / instead).
    const reqs = this.ops.map((o): Req => {
      if (o.op === 'close') {
        if (sess) return { o, path: '/', method: 'DELETE', url: `/v1/sessions/${sess.id}`, headers: {}, body: undefined, eph: false };
        o = { op: 'read', t: { k: 'reserved', i: 0 }, children: true };
      }
      if (o.op === 'create') {
        const path = resolveCreateAt(m, o.at);
        const eph = o.eph && sess !== undefined;
        const q = [...(o.seq ? ['sequential'] : []), ...(eph ? ['ephemeral'] : [])];
        if (q.length === 0 && !o.plain) q.push('parents=false');
        return { o, path, method: 'POST', url: zurl(path, q.join('&')), headers: eph ? { 'zk-session': (sess as MSession).id } : {}, body: Buffer.from(o.data), eph };
      }
      const path = resolve(m, (o as { t: Target }).t);
      if (o.op === 'read') return { o, path, method: 'GET', url: zurl(path, o.children ? 'children' : ''), headers: {}, body: undefined, eph: false };
      const v = resolveVersion(m.tree.get(path), o.ver, o.salt);
      const url = zurl(path, v === undefined ? '' : `version=${v}`);
      return { o, path, v, method: o.op === 'set' ? 'PUT' : 'DELETE', url, headers: {}, body: o.op === 'set' ? Buffer.from(o.data) : undefined, eph: false };
    });
    this.sent = reqs.map((q) => `${q.method} ${q.url} ${show(q.headers)}`).join(' | ');
    const ctx = this.ctx();
    const t0 = Date.now();
    const answers = await Promise.all(
      reqs.map(async (q) => {
        const res = await r.http.call(q.method, q.url, q.headers, q.body);
        tally(this, res);
        return { res, t1: Date.now() };
      }),
    );
    const pre = m.zxid;
    const top = Math.max(pre, ...answers.map((a) => zxidOf(ctx, a.res, r)));
    // Every order of the requests that explains every answer. Each write that reaches the log takes a zxid, failed
    // ones too (README "Choices"): those whose zxid no answer shows (deletes, failures, the close) take the lowest
    // one still free, so an order is refused when the zxids the answers show leave no room for them.
    const why: string[] = [];
    const candidates: { tree: Tree; sessOpen: boolean }[] = [];
    for (const order of permutations(reqs.length)) {
      const work = cloneTree(m.tree);
      let sessOpen = sess?.open ?? false;
      let last = pre;
      const slot = (c: string, z?: number) => {
        if (z === undefined) last++;
        else {
          ok(c, `zxid ${z} comes after ${last} in this order`, z > last, r);
          last = z;
        }
        ok(c, `room for the zxids of this order below ${top}`, last <= top, r);
      };
      try {
        for (const i of order) {
          const q = reqs[i] as Req;
          const { res, t1 } = answers[i] as (typeof answers)[number];
          const c = `${ctx} [op ${i} in order ${order.join(',')}]`;
          const o = q.o;
          if (o.op === 'close') {
            if (!sessOpen) {
              expectError(c, res, 'SessionExpired', r);
              continue;
            }
            // Its ephemerals go in its transaction, whose zxid no answer carries.
            eq(c, 'status', res.status, 204, r);
            slot(c);
            for (const p of [...work.entries()].filter(([, n]) => n.kind === 'ephemeral' && n.owner === sess?.id).map(([p]) => p)) removeNode(work, p, { z: NaN, time: NaN });
            sessOpen = false;
            continue;
          }
          if (o.op === 'read') {
            const n = work.get(q.path);
            if (!n) {
              expectError(c, res, 'NoNode', r);
              continue;
            }
            eq(c, 'status', res.status, 200, r);
            looseStat(c, res.json.stat, n, pre, top, r);
            if (o.children) eq(c, 'children', res.json.children, [...n.children].sort(byUtf8), r);
            else expectData(c, res.json, n.data, false, r);
            continue;
          }
          const stat = res.json?.stat as Stat | undefined;
          const z = o.op === 'create' ? Number(stat?.czxid) : o.op === 'set' ? Number(stat?.mzxid) : NaN;
          const time = o.op === 'create' ? Number(stat?.ctime) : Number(stat?.mtime);
          let created = '';
          const early = q.eph && !sessOpen ? 'SessionExpired' : o.op === 'create' ? pathRefusal(q.path, o.seq) : undefined;
          if (early) {
            expectError(c, res, early, r);
            continue;
          }
          try {
            if (o.op === 'create') {
              created = mCreate(work, { path: q.path, data: Buffer.from(o.data), kind: q.eph ? 'ephemeral' : 'persistent', seq: o.seq, parents: false, ttl: 0, owner: sess?.id ?? '' }, { z, time });
            } else if (o.op === 'set') mSet(work, q.path, Buffer.from(o.data), q.v ?? -1, { z, time });
            else mDelete(work, q.path, q.v ?? -1, false, { z, time });
          } catch (e) {
            if (!(e instanceof ZkFail)) throw e;
            expectError(c, res, e.zk, r);
            slot(c);
            continue;
          }
          eq(c, 'status', res.status, o.op === 'create' ? 201 : o.op === 'set' ? 200 : 204, r);
          if (o.op === 'delete') {
            slot(c);
            continue;
          }
          slot(c, z);
          inWindow(c, 'time', time, t0, t1, r);
          const n = work.get(o.op === 'create' ? created : q.path) as MNode;
          if (o.op === 'create') eq(c, 'path', res.json.path, created, r);
          looseStat(c, stat, n, pre, top, r);
        }
      } catch (e) {
        if (!(e instanceof Divergence)) throw e;
        why.push(e.message);
        continue;
      }
      candidates.push({ tree: work, sessOpen });
    }
    if (candidates.length === 0) {
      throw new Divergence(`${ctx}: no order of the concurrent requests explains the answers\n  ${answers.map((a, i) => `op ${i}: ${a.res.status} ${a.res.raw.toString().slice(0, 300)}`).join('\n  ')}\n  first order tried: ${why[0]}`);
    }
    // Orders that explain the answers alike may still leave different states (a pzxid, which delete came last): the
    // nodes where they differ are read back, and an order whose state the server has is kept.
    const first = candidates[0] as (typeof candidates)[number];
    const differing = new Set<string>();
    for (const cand of candidates.slice(1)) {
      for (const p of new Set([...first.tree.keys(), ...cand.tree.keys()])) {
        const a = first.tree.get(p);
        const b = cand.tree.get(p);
        if (!a || !b || show(statOf(a)) !== show(statOf(b)) || !a.data.equals(b.data) || show([...a.children].sort()) !== show([...b.children].sort())) differing.add(p);
      }
    }
    for (const [p, n] of first.tree) if (Number.isNaN(n.pzxid)) differing.add(p);
    const seen = new Map<string, Resp | undefined>();
    for (const p of differing) {
      const res = await r.http.call('GET', zurl(p, 'children'));
      seen.set(p, res.status === 200 ? res : undefined);
    }
    const fits = candidates.find((cand) =>
      [...differing].every((p) => {
        const n = cand.tree.get(p);
        const got = seen.get(p);
        if (!n || !got) return !n && !got;
        const want = statOf(n);
        if (Number.isNaN(n.pzxid) && Number(got.json.stat.pzxid) > pre && Number(got.json.stat.pzxid) <= top) want.pzxid = got.json.stat.pzxid;
        return show(canon(got.json.stat)) === show(canon(want)) && show(got.json.children) === show([...n.children].sort(byUtf8));
      }),
    );
    if (!fits) {
      throw new Divergence(`${ctx}: ${candidates.length} orders explain the answers, but the server's state after them is none of theirs\n  ${[...differing].map((p) => `${p}: ${seen.get(p)?.raw.toString() ?? 'absent'}`).join('\n  ')}`);
    }
    m.tree = fits.tree;
    m.zxid = top;
    if (sess && !fits.sessOpen) sess.open = false;
    // The pzxid a delete or close left is in no answer: it is what the server shows, a zxid of this batch.
    for (const [p, n] of m.tree) {
      if (!Number.isNaN(n.pzxid)) continue;
      const pz = Number(seen.get(p)?.json.stat.pzxid);
      ok(ctx, `pzxid ${pz} of ${p} after a delete is a zxid of this batch (${pre}, ${top}]`, pz > pre && pz <= top, r);
      n.pzxid = pz;
    }
  }
}

/** A stat whose pzxid may be that of a delete in a concurrent batch (unknown to the model: NaN, any zxid of the batch). */
function looseStat(ctx: string, got: Stat | undefined, n: MNode, pre: number, top: number, r: Real): void {
  const want = statOf(n);
  if (Number.isNaN(n.pzxid) && got && Number(got.pzxid) > pre && Number(got.pzxid) <= top) want.pzxid = got.pzxid;
  expectStat(ctx, got, want, r);
}

export const concurrentArb: fc.Arbitrary<Cmd> = fc.array(cOpArb, { minLength: 2, maxLength: 4 }).map((ops) => new ConcurrentCmd(ops));
