// The multi command: ops resolved against a dry run of the ops before them, checked against ZooKeeper's
// per-op results; its target generators are shared with the concurrent batches.
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { eq, expectError, inWindow, keysOf, ok, show, tally, writeZxid, zxidOf } from './checks.js';
import { Cmd } from './cmd.js';
import { createAtArb, dataArb, existingArb, fixedArb, pathRefusal, refusedForSession, reservedArb, resolve, resolveCreateAt, resolveSession, resolveVersion, sessArb, sessionHeader, showCreateAt, showTarget, under, verSelArb, type CreateAt, type SessSel, type Target, type VerSel } from './params.js';
import { TTL_MS, type Real } from './real.js';
import { cloneTree, CODE, mCheck, mCreate, mDelete, Model, mSet, statOf, ZkFail, type ErrName, type Kind, type MNode, type MSession, type Stat, type Tree, type Txn } from './zk-model.js';

// ---- multi

export type MultiOpGen =
  | { op: 'create'; at: CreateAt; data: number[]; mode: string; utf8: boolean }
  | { op: 'set'; t: Target; data: number[]; ver: VerSel; salt: number; utf8: boolean }
  | { op: 'delete'; t: Target; ver: VerSel; salt: number }
  | { op: 'check'; t: Target; ver: VerSel; salt: number };

const MODES = ['PERSISTENT', 'PERSISTENT', 'PERSISTENT_SEQUENTIAL', 'EPHEMERAL', 'EPHEMERAL_SEQUENTIAL', 'CONTAINER', 'PERSISTENT_WITH_TTL', 'PERSISTENT_SEQUENTIAL_WITH_TTL', 'DEFAULT'];
const prevArb = fc.nat(9).map((i): Target => ({ k: 'prev', i }));
export const multiTargetArb: fc.Arbitrary<Target> = fc.oneof(
  { weight: 16, arbitrary: existingArb },
  { weight: 8, arbitrary: prevArb },
  { weight: 2, arbitrary: fixedArb },
  { weight: 1, arbitrary: reservedArb },
);
export const multiCreateAtArb: fc.Arbitrary<CreateAt> = fc.oneof(
  { weight: 2, arbitrary: createAtArb },
  { weight: 3, arbitrary: under(existingArb) },
  { weight: 3, arbitrary: under(prevArb) },
);
const multiOpArb: fc.Arbitrary<MultiOpGen> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('create' as const), at: multiCreateAtArb, data: dataArb, mode: fc.constantFrom(...MODES), utf8: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), t: multiTargetArb, data: dataArb, ver: verSelArb, salt: fc.nat(99), utf8: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), t: multiTargetArb, ver: verSelArb, salt: fc.nat(99) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('check' as const), t: multiTargetArb, ver: verSelArb, salt: fc.nat(99) }) },
);

/** Data as a multi op carries it: a utf8 string when the bytes are UTF-8 and that was chosen, else base64. */
function wireData(data: number[], utf8: boolean): { data?: string; encoding?: string } {
  const b = Buffer.from(data);
  if (b.length === 0 && utf8) return {};
  if (utf8 && isUtf8(b)) return { data: b.toString('utf8') };
  return { data: b.toString('base64'), encoding: 'base64' };
}

interface Resolved {
  wire: Record<string, unknown>;
  /** What prepare refuses before the state is consulted. */
  invalid?: ErrName;
  apply: (tr: Tree, x: Txn) => Record<string, unknown>;
}

/** Resolved against `m`, the state the earlier ops of the multi would leave (a dry run), and their paths. */
function resolveMultiOp(m: Model, o: MultiOpGen, session: MSession | undefined, prev: string[]): Resolved {
  if (o.op === 'create') {
    const path = resolveCreateAt(m, o.at, prev);
    const mode = o.mode === 'DEFAULT' ? 'PERSISTENT' : o.mode;
    const seq = mode.includes('SEQUENTIAL');
    const kind: Kind = mode.startsWith('EPHEMERAL') ? 'ephemeral' : mode === 'CONTAINER' ? 'container' : mode.includes('TTL') ? 'ttl' : 'persistent';
    const wire: Record<string, unknown> = { op: 'create', path, ...wireData(o.data, o.utf8), ...(o.mode === 'DEFAULT' ? {} : { mode }), ...(kind === 'ttl' ? { ttl: TTL_MS } : {}) };
    let invalid: ErrName | undefined;
    if (kind === 'ephemeral' && !session) invalid = 'BadArguments';
    else invalid = pathRefusal(path, seq);
    return {
      wire,
      invalid,
      apply: (tr, x) => {
        const created = mCreate(tr, { path, data: Buffer.from(o.data), kind, seq, parents: false, ttl: kind === 'ttl' ? TTL_MS : 0, owner: session?.id ?? '' }, x);
        return { op: 'create', path: created, stat: statOf(tr.get(created) as MNode) };
      },
    };
  }
  const path = resolve(m, o.t, prev);
  const v = resolveVersion(m.tree.get(path), o.ver, o.salt);
  const ver = v === undefined ? {} : { version: v };
  switch (o.op) {
    case 'set':
      return {
        wire: { op: 'set', path, ...wireData(o.data, o.utf8), ...ver },
        apply: (tr, x) => ({ op: 'set', stat: statOf(mSet(tr, path, Buffer.from(o.data), v ?? -1, x)) }),
      };
    case 'delete':
      return {
        wire: { op: 'delete', path, ...ver },
        apply: (tr, x) => {
          mDelete(tr, path, v ?? -1, false, x);
          return { op: 'delete' };
        },
      };
    case 'check':
      return {
        wire: { op: 'check', path, ...ver },
        apply: (tr) => {
          mCheck(tr, path, v ?? -1);
          return { op: 'check' };
        },
      };
  }
}

function failureResults(n: number, at: number, err: ErrName): { error: string; code: number }[] {
  return Array.from({ length: n }, (_, j) =>
    j < at ? { error: 'Ok', code: 0 } : j === at ? { error: err, code: CODE[err] } : { error: 'RuntimeInconsistency', code: CODE.RuntimeInconsistency },
  );
}

export class MultiCmd extends Cmd {
  constructor(
    readonly ops: MultiOpGen[],
    readonly sess: SessSel | null,
  ) {
    super();
  }
  describe(): string {
    return `Multi(${this.sess ? `sess=${show(this.sess)} ` : ''}${show(this.ops.map((o) => ({ ...o, ...('t' in o ? { t: showTarget(o.t) } : {}), ...('at' in o ? { at: showCreateAt(o.at) } : {}) })))})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const sess = resolveSession(m, this.sess);
    // Each op is resolved against a dry run of the ops before it, so that later ops can name what earlier ones made.
    const dry = new Model();
    dry.tree = cloneTree(m.tree);
    const prev: string[] = [];
    const ops = this.ops.map((o) => {
      const op = resolveMultiOp(dry, o, sess, prev);
      try {
        const out = op.apply(dry.tree, { z: m.zxid + 1, time: 0 });
        prev.push(String(out.path ?? op.wire.path));
      } catch (e) {
        if (!(e instanceof ZkFail)) throw e;
        prev.push(String(op.wire.path));
      }
      return op;
    });
    const headers = { 'content-type': 'application/json', ...sessionHeader(sess, this.sess) };
    const body = JSON.stringify({ ops: ops.map((o) => o.wire) });
    this.sent = `POST /v1/multi ${show(headers)} ${body}`;
    const ctx = this.ctx();
    const t0 = Date.now();
    const res = await r.http.call('POST', '/v1/multi', headers, body);
    tally(this, res);
    const t1 = Date.now();
    if (refusedForSession(sess)) {
      eq(ctx, 'status and error', [res.status, res.json?.error], [410, 'SessionExpired'], r);
      writeZxid(ctx, m, res, r, false);
      return;
    }
    const n = ops.length;
    const k = ops.findIndex((o) => o.invalid !== undefined);
    // An invalid first op fails the multi in prepare, with no zxid (README "Choices").
    if (k === 0) {
      const err = ops[0]?.invalid as ErrName;
      expectError(ctx, res, err, r);
      eq(ctx, 'results', res.json.results, failureResults(n, 0, err), r);
      writeZxid(ctx, m, res, r, false);
      return;
    }
    const z = zxidOf(ctx, res, r);
    // One txn: one zxid and one time for every op (ZOOKEEPER.md §2, §3.2).
    const times: number[] = [];
    ((res.json?.results ?? []) as { stat?: Stat }[]).forEach((x, i) => {
      if (x?.stat) times.push(ops[i]?.wire.op === 'set' ? x.stat.mtime : x.stat.ctime);
    });
    const time = times[0] ?? NaN;
    const work = cloneTree(m.tree);
    const want: Record<string, unknown>[] = [];
    let failed: { at: number; err: ErrName } | undefined;
    const upTo = k < 0 ? n : k;
    for (let i = 0; i < upTo; i++) {
      try {
        want.push((ops[i] as Resolved).apply(work, { z, time }));
      } catch (e) {
        if (!(e instanceof ZkFail)) throw e;
        failed = { at: i, err: e.zk };
        break;
      }
    }
    if (!failed && k > 0) failed = { at: k, err: ops[k]?.invalid as ErrName };
    if (failed) {
      expectError(ctx, res, failed.err, r);
      eq(ctx, `results of a multi failing at op ${failed.at}`, res.json.results, failureResults(n, failed.at, failed.err), r);
      writeZxid(ctx, m, res, r, true);
      return;
    }
    eq(ctx, 'status', res.status, 200, r);
    writeZxid(ctx, m, res, r, true);
    if (times.length > 0) {
      inWindow(ctx, 'txn time', time, t0, t1, r);
      ok(ctx, `every op of one multi has the txn's time (${show(times)})`, times.every((x) => x === time), r);
    }
    eq(ctx, 'body keys', keysOf(res.json), ['results'], r);
    eq(ctx, 'results', res.json.results, want, r);
    m.tree = work;
  }
}

/** Ops likely to succeed (current versions, existing targets, names that make paths), so whole multis commit too. */
const likelyTargetArb: fc.Arbitrary<Target> = fc.oneof({ weight: 3, arbitrary: existingArb }, { weight: 2, arbitrary: prevArb });
const likelyVerArb = fc.constantFrom<VerSel>('none', 'any', 'current');
const likelyAtArb: fc.Arbitrary<CreateAt> = fc
  .record({ t: likelyTargetArb, name: fc.constantFrom('a', 'b', 'c', 's-') })
  .map(({ t, name }): CreateAt => ({ k: 'under', t, name }));
const likelyOpArb: fc.Arbitrary<MultiOpGen> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('create' as const), at: likelyAtArb, data: dataArb, mode: fc.constantFrom('PERSISTENT', 'PERSISTENT_SEQUENTIAL', 'EPHEMERAL', 'CONTAINER', 'PERSISTENT_WITH_TTL', 'DEFAULT'), utf8: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), t: likelyTargetArb, data: dataArb, ver: likelyVerArb, salt: fc.nat(99), utf8: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), t: likelyTargetArb, ver: likelyVerArb, salt: fc.nat(99) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('check' as const), t: likelyTargetArb, ver: likelyVerArb, salt: fc.nat(99) }) },
);
export const multiArb: fc.Arbitrary<Cmd> = fc.oneof(
  fc.tuple(fc.array(multiOpArb, { minLength: 1, maxLength: 4 }), fc.option(sessArb, { freq: 2 })).map(([ops, sess]) => new MultiCmd(ops, sess)),
  fc.tuple(fc.array(likelyOpArb, { minLength: 1, maxLength: 4 }), fc.option(sessArb, { freq: 6 })).map(([ops, sess]) => new MultiCmd(ops, sess)),
);
