// The Jepsen checkers against known-good and known-bad histories: the linearizability search (including
// unknown outcomes and its time budget), plain-read, queue, session and watch checks.
import t from 'tap';
import { checkLinearizable, type Operation } from './checker/linearizability.js';
import { registerModel, type RegisterInput, type RegisterOutput, type RegisterState } from './checker/register-model.js';
import { checkPlainReads, registerOperations } from './checker/registers.js';
import { checkQueue } from './checker/queue.js';
import { checkSessions } from './checker/sessions.js';
import { checkWatches } from './checker/watches.js';
import type { QueueOp, RegisterOp, SessionOp, WatcherLog } from './history.js';
import { Random } from './random.js';

type Op = Operation<RegisterInput, RegisterOutput>;
let nextId = 1;
function op(call: number, ret: number, input: RegisterInput, output: RegisterOutput | undefined, client = 1): Op {
  return { id: nextId++, client, input, output, call, ret: output === undefined ? Infinity : ret };
}
const ok = (version?: number, value?: string): RegisterOutput => ({ ok: true, version, value });
const err = (error: 'NoNode' | 'NodeExists' | 'BadVersion'): RegisterOutput => ({ ok: false, error });
const check = (ops: Op[], budgetMs = 5000) => checkLinearizable(registerModel, ops, budgetMs).verdict;

t.test('linearizability: sequential and concurrent histories that are linearizable pass', async (t) => {
  t.equal(check([op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(2, 3, { f: 'set', key: 'a', value: 'y' }, ok(1)), op(4, 5, { f: 'get', key: 'a' }, ok(1, 'y'))]), 'ok');
  // Two overlapping sets; a later read may see either order's result, with the matching version.
  const base = [op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(2, 6, { f: 'set', key: 'a', value: 'p' }, ok(1), 1), op(3, 5, { f: 'set', key: 'a', value: 'q' }, ok(2), 2)];
  t.equal(check([...base, op(7, 8, { f: 'get', key: 'a' }, ok(2, 'q'))]), 'ok', 'p then q');
  // Intervals are closed: operations that touch at one instant are concurrent.
  t.equal(check([op(0, 5, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(5, 6, { f: 'get', key: 'a' }, err('NoNode'))]), 'ok');
  t.equal(check([]), 'ok', 'an empty history');
});

t.test('linearizability: histories it must reject', async (t) => {
  t.equal(check([op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(2, 3, { f: 'set', key: 'a', value: 'y' }, ok(1)), op(4, 5, { f: 'get', key: 'a' }, ok(0, 'x'))]), 'illegal', 'a stale read after an acknowledged set');
  t.equal(check([op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(4, 5, { f: 'get', key: 'a' }, err('NoNode'))]), 'illegal', 'an acknowledged create lost');
  t.equal(
    check([op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(2, 5, { f: 'set', key: 'a', value: 'p', version: 0 }, ok(1), 1), op(2, 5, { f: 'set', key: 'a', value: 'q', version: 0 }, ok(1), 2)]),
    'illegal',
    'two compare-and-sets on the same version both succeed',
  );
  t.equal(check([op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(2, 3, { f: 'set', key: 'a', value: 'p', version: 0 }, err('BadVersion'))]), 'illegal', 'BadVersion when the version matched');
  t.equal(check([op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(2, 3, { f: 'create', key: 'a', value: 'y' }, ok(0))]), 'illegal', 'two creates of one znode succeed');
  t.equal(check([op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(2, 3, { f: 'set', key: 'a', value: 'y' }, ok(5))]), 'illegal', 'a set reports the wrong version');
  t.equal(check([op(0, 1, { f: 'get', key: 'a' }, ok(0, 'ghost'))]), 'illegal', 'a read of a value nobody wrote');
  // Only one key is broken; the others are fine. The whole history is illegal and the report names the key.
  const r = checkLinearizable(registerModel, [op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0)), op(0, 1, { f: 'create', key: 'b', value: 'x' }, ok(0)), op(2, 3, { f: 'get', key: 'b' }, err('NoNode'))], 5000);
  t.equal(r.verdict, 'illegal');
  t.same(r.partitions.map((p) => [p.key, p.verdict]), [['a', 'ok'], ['b', 'illegal']]);
  t.ok((r.partitions[1]?.stuckAt ?? []).some((o) => o.input.f === 'get'), 'the report names the read it could not place');
});

t.test('linearizability: an unknown outcome may take effect at any later time, or never, but only once', async (t) => {
  const create = op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0));
  const lost = op(2, 3, { f: 'set', key: 'a', value: 'y' }, undefined);
  t.equal(check([create, lost, op(10, 11, { f: 'get', key: 'a' }, ok(0, 'x'))]), 'ok', 'never applied');
  t.equal(check([create, lost, op(10, 11, { f: 'get', key: 'a' }, ok(1, 'y'))]), 'ok', 'applied');
  t.equal(check([create, lost, op(10, 11, { f: 'get', key: 'a' }, ok(0, 'x')), op(12, 13, { f: 'get', key: 'a' }, ok(1, 'y'))]), 'ok', 'applied long after the client gave up');
  t.equal(check([create, lost, op(10, 11, { f: 'get', key: 'a' }, ok(1, 'y')), op(12, 13, { f: 'get', key: 'a' }, ok(0, 'x'))]), 'illegal', 'seen applied, then unseen');
  t.equal(check([create, op(2, 3, { f: 'get', key: 'a' }, ok(1, 'y')), op(5, 6, { f: 'set', key: 'a', value: 'y' }, undefined)]), 'illegal', 'seen before it was invoked');
});

t.test('linearizability: past its time budget the verdict is unknown, never ok', async (t) => {
  // 12 fully concurrent sets and a read of a value none wrote: illegal, but only after exploring every order.
  const ops: Op[] = [op(0, 1, { f: 'create', key: 'a', value: 'x' }, ok(0))];
  for (let i = 0; i < 12; i++) ops.push(op(2, 100, { f: 'set', key: 'a', value: `v${i}` }, ok(undefined), i + 2));
  ops.push(op(2, 100, { f: 'get', key: 'a' }, ok(undefined, 'nobody')));
  t.equal(check(ops, 0), 'unknown');
  t.equal(check(ops, 60000), 'illegal');
});

/** A history that is linearizable by construction: each op takes effect at a random instant inside its interval. */
function linearizableHistory(rand: Random, n: number): Op[] {
  const keys = ['a', 'b'];
  const raw = Array.from({ length: n }, (_, i) => {
    const call = rand.int(0, 200);
    const ret = call + rand.int(0, 30);
    const at = call + rand.float() * (ret - call);
    const key = rand.pick(keys);
    const x = rand.float();
    const input: RegisterInput =
      x < 0.2 ? { f: 'create', key, value: `v${i}` } : x < 0.5 ? { f: 'set', key, value: `v${i}`, version: rand.float() < 0.5 ? rand.int(0, 3) : undefined } : x < 0.6 ? { f: 'delete', key } : { f: 'get', key };
    return { i, call, ret, at, input, unknown: rand.float() < 0.1 };
  });
  const state = new Map<string, RegisterState>();
  const out: Op[] = [];
  for (const r of [...raw].sort((a, b) => a.at - b.at)) {
    const s = state.get(r.input.key) ?? null;
    let output: RegisterOutput | undefined;
    for (const candidate of [ok(0), ok(s ? s.version + 1 : 0), ok(), ok(s?.version, s?.value), err('NoNode'), err('NodeExists'), err('BadVersion')]) {
      if (registerModel.step(s, r.input, candidate) !== undefined) {
        output = candidate;
        break;
      }
    }
    state.set(r.input.key, registerModel.step(s, r.input, output) ?? null);
    out.push({ id: r.i, client: r.i, input: r.input, output: r.unknown && r.input.f !== 'get' ? undefined : output, call: r.call, ret: r.unknown && r.input.f !== 'get' ? Infinity : r.ret });
  }
  return out;
}

t.test('linearizability: 100 random histories linearizable by construction all pass', async (t) => {
  const rand = new Random(4242);
  let bad = 0;
  for (let i = 0; i < 100; i++) if (check(linearizableHistory(rand, 40)) !== 'ok') bad++;
  t.equal(bad, 0);
});

const rop = (o: Partial<RegisterOp> & Pick<RegisterOp, 'id' | 'client' | 'f' | 'call'>): RegisterOp => ({ type: 'register', node: 1, key: 'k', ret: o.call + 1, outcome: 'ok', ...o });

t.test('plain reads: never back in zxid per client, no phantom values, the written mzxid', async (t) => {
  const w1 = rop({ id: 1, client: 1, f: 'create', value: 'a', call: 0, mzxid: 10, gotVersion: 0, zxid: 10 });
  const w2 = rop({ id: 2, client: 1, f: 'set', value: 'b', call: 2, mzxid: 12, gotVersion: 1, zxid: 12 });
  const good = [w1, w2, rop({ id: 3, client: 2, f: 'read', call: 3, gotValue: 'a', mzxid: 10, gotVersion: 0, zxid: 11 }), rop({ id: 4, client: 2, f: 'read', call: 5, gotValue: 'b', mzxid: 12, gotVersion: 1, zxid: 13 })];
  t.same(checkPlainReads(good), []);
  const back = [w1, w2, rop({ id: 3, client: 2, f: 'read', call: 3, gotValue: 'b', mzxid: 12, gotVersion: 1, zxid: 13 }), rop({ id: 4, client: 2, f: 'read', call: 5, gotValue: 'a', mzxid: 10, gotVersion: 0, zxid: 13 })];
  t.same(checkPlainReads(back).map((a) => a.kind), ['stale-read']);
  const ryw = [w1, w2, rop({ id: 3, client: 1, f: 'read', call: 4, gotValue: 'a', mzxid: 10, gotVersion: 0, zxid: 13 })];
  t.same(checkPlainReads(ryw).map((a) => a.kind), ['stale-read'], 'a client reading older than its own acknowledged write');
  const zx = [w1, rop({ id: 3, client: 1, f: 'read', call: 4, gotValue: 'a', mzxid: 10, gotVersion: 0, zxid: 9 })];
  t.same(checkPlainReads(zx).map((a) => a.kind), ['zxid-went-back', 'zxid-behind-data']);
  const behind = [w1, rop({ id: 3, client: 2, f: 'read', call: 4, gotValue: 'a', mzxid: 10, gotVersion: 0, zxid: 8 })];
  t.same(checkPlainReads(behind).map((a) => a.kind), ['zxid-behind-data'], 'an answer whose ZK-Zxid is below the data it shows');
  t.same(checkPlainReads([rop({ id: 3, client: 1, f: 'read', call: 4, gotValue: 'zz', mzxid: 10, gotVersion: 0, zxid: 11 })]).map((a) => a.kind), ['phantom-read']);
  t.same(checkPlainReads([w1, rop({ id: 3, client: 2, f: 'read', call: 4, gotValue: 'a', mzxid: 11, gotVersion: 0, zxid: 11 })]).map((a) => a.kind), ['read-mismatch']);
});

const qop = (o: Partial<QueueOp> & Pick<QueueOp, 'id' | 'f' | 'outcome'>): QueueOp => ({ type: 'queue', client: 1, node: 1, call: o.id, ret: o.id + 1, ...o });

t.test('queue: known-good and known-bad histories', async (t) => {
  const enq = [qop({ id: 1, f: 'enqueue', outcome: 'ok', value: 'x', path: '/q/e-1' }), qop({ id: 2, f: 'enqueue', outcome: 'ok', value: 'y', path: '/q/e-2' }), qop({ id: 3, f: 'enqueue', outcome: 'unknown', value: 'z' })];
  const good = checkQueue([...enq, qop({ id: 4, f: 'dequeue', outcome: 'ok', value: 'x' })], { children: new Map([['/q/e-2', 'y'], ['/q/e-3', 'z']]) });
  t.same(good.anomalies, []);
  t.same(checkQueue([...enq, qop({ id: 4, f: 'dequeue', outcome: 'ok', value: 'x' })], { children: new Map() }).anomalies.map((a) => a.kind), ['lost-enqueue'], 'y acknowledged, never dequeued, gone');
  t.same(checkQueue([...enq, qop({ id: 4, f: 'dequeue', outcome: 'ok', value: 'x' }), qop({ id: 5, f: 'dequeue', outcome: 'ok', value: 'x' })], { children: new Map([['/q/e-2', 'y']]) }).anomalies.map((a) => a.kind), ['double-dequeue']);
  t.same(checkQueue([...enq, qop({ id: 6, f: 'enqueue', outcome: 'ok', value: 'w', path: '/q/e-1' })], { children: new Map([['/q/e-1', 'x'], ['/q/e-2', 'y'], ['/q/e-9', 'w']]) }).anomalies.map((a) => a.kind), ['duplicate-sequence']);
  t.same(checkQueue([...enq, qop({ id: 4, f: 'dequeue', outcome: 'ok', value: 'x' })], { children: new Map([['/q/e-1', 'x'], ['/q/e-2', 'y']]) }).anomalies.map((a) => a.kind), ['resurrected']);
  t.same(checkQueue(enq, { children: new Map([['/q/e-1', 'x'], ['/q/e-2', 'y'], ['/q/e-7', 'nobody']]) }).anomalies.map((a) => a.kind), ['phantom-element']);
});

const sop = (o: Partial<SessionOp> & Pick<SessionOp, 'id' | 'f' | 'call'>): SessionOp => ({ type: 'session', client: 1, node: 1, session: 's', ret: o.call + 1, outcome: 'ok', ...o });

const checkSessions3 = (ops: SessionOp[], final: Parameters<typeof checkSessions>[1]) => checkSessions(ops, final, 5);

t.test('sessions: known-good and known-bad histories', async (t) => {
  const life = [sop({ id: 1, f: 'open', call: 0 }), sop({ id: 2, f: 'ephemeral', call: 2, path: '/e/s-0' }), sop({ id: 3, f: 'probe', call: 4, present: ['/e/s-0'], absent: [] }), sop({ id: 4, f: 'keepalive', call: 6 }), sop({ id: 5, f: 'close', call: 8 }), sop({ id: 6, f: 'probe', call: 10, present: [], absent: ['/e/s-0'] })];
  t.same(checkSessions3(life, { ephemerals: new Map(), alive: new Set() }), []);
  t.same(checkSessions3([...life, sop({ id: 7, f: 'ephemeral', call: 12, path: '/e/s-1' })], { ephemerals: new Map(), alive: new Set() }).map((a) => a.kind), ['ephemeral-after-death']);
  const outlived = life.map((o) => (o.id === 6 ? { ...o, present: ['/e/s-0'], absent: [] } : o));
  t.same(checkSessions3(outlived, { ephemerals: new Map(), alive: new Set() }).map((a) => a.kind), ['ephemeral-outlived-session']);
  const lost = life.map((o) => (o.id === 3 ? { ...o, present: [], absent: ['/e/s-0'] } : o));
  t.same(checkSessions3(lost, { ephemerals: new Map(), alive: new Set() }).map((a) => a.kind), ['ephemeral-lost']);
  t.same(checkSessions3(life, { ephemerals: new Map([['/e/s-0', 's']]), alive: new Set() }).map((a) => a.kind), ['orphan-ephemeral']);
  t.same(checkSessions3(life, { ephemerals: new Map(), alive: new Set(['s']) }).map((a) => a.kind), ['session-not-expired']);
  // Without a keepalive after the probe, a missing ephemeral proves nothing (the session may have expired).
  t.same(checkSessions3(lost.filter((o) => o.id !== 4), { ephemerals: new Map(), alive: new Set() }), []);
  // Reported expired (not closed): the ephemerals may linger for the grace period, not longer.
  const expired = [...life.slice(0, 4), sop({ id: 5, f: 'keepalive', call: 8, outcome: 'fail', error: 'SessionExpired' })];
  const probeAt = (call: number) => sop({ id: 6, f: 'probe', call, present: ['/e/s-0'], absent: [] });
  t.same(checkSessions3([...expired, probeAt(12)], { ephemerals: new Map(), alive: new Set() }), [], 'within the grace period');
  t.same(checkSessions3([...expired, probeAt(20)], { ephemerals: new Map(), alive: new Set() }).map((a) => a.kind), ['ephemeral-outlived-session'], 'after it');
  t.same(checkSessions3([...expired, sop({ id: 7, f: 'ephemeral', call: 10, path: '/e/s-1' })], { ephemerals: new Map(), alive: new Set() }).map((a) => a.kind), ['ephemeral-after-death']);
});

t.test('watches: known-good and known-bad watcher logs', async (t) => {
  const writes = [rop({ id: 1, client: 1, f: 'create', call: 0, mzxid: 5, value: 'a' }), rop({ id: 2, client: 1, f: 'set', call: 2, mzxid: 7, value: 'b' })];
  const w = (events: WatcherLog['events'], endZxid = 9): WatcherLog => ({ watcher: 1, key: 'k', events, endZxid });
  const est = (zxid: number) => ({ t: 0, kind: 'established' as const, zxid, node: 1 });
  const ev = (zxid: number, event: string) => ({ t: 0, kind: 'event' as const, zxid, event, node: 1 });
  t.same(checkWatches([w([est(1), ev(5, 'NodeCreated'), ev(7, 'NodeDataChanged'), ev(8, 'NodeDeleted')])], writes).anomalies, []);
  t.same(checkWatches([w([est(1), ev(5, 'NodeCreated'), ev(8, 'NodeDeleted')])], writes).anomalies.map((a) => a.kind), ['watch-missed'], 'an acknowledged set not delivered');
  t.same(checkWatches([w([est(1), ev(7, 'NodeDataChanged'), ev(5, 'NodeCreated')])], writes).anomalies.map((a) => a.kind), ['watch-out-of-order']);
  // A resync on resume excuses the gap it covers; a plain resume must replay it.
  t.same(checkWatches([w([est(1), ev(5, 'NodeCreated'), { t: 0, kind: 'resync', zxid: 5, node: 2 }, est(8)])], writes).anomalies, []);
  t.same(checkWatches([w([est(1), ev(5, 'NodeCreated'), est(8)])], writes).anomalies.map((a) => a.kind), ['watch-missed']);
  // What one watcher saw, another covering the same span must see too.
  const other: WatcherLog = { watcher: 2, key: 'k', events: [est(1), ev(5, 'NodeCreated'), ev(7, 'NodeDataChanged')], endZxid: 9 };
  t.same(checkWatches([w([est(1), ev(5, 'NodeCreated'), ev(7, 'NodeDataChanged'), ev(8, 'NodeDeleted')]), other], writes).anomalies.map((a) => a.kind), ['watch-missed']);
  t.same(checkWatches([{ watcher: 3, key: 'k', events: [est(1)] }], writes).anomalies.map((a) => a.kind), ['watcher-stalled']);
});

t.test('history conversion: never-applied writes drop out, unknown writes stay open, odd errors are reported', async (t) => {
  const ops: RegisterOp[] = [
    rop({ id: 1, client: 1, f: 'create', value: 'a', call: 0, gotVersion: 0 }),
    rop({ id: 2, client: 1, f: 'set', value: 'b', call: 2, outcome: 'fail', error: 'NotApplied' }),
    rop({ id: 3, client: 2, f: 'set', value: 'c', call: 3, outcome: 'unknown', error: 'timeout' }),
    rop({ id: 4, client: 3, f: 'get', call: 4, outcome: 'unknown' }),
    rop({ id: 5, client: 3, f: 'read', call: 5, gotValue: 'a' }),
    rop({ id: 6, client: 4, f: 'delete', call: 6, outcome: 'fail', error: 'NoAuth' }),
    rop({ id: 7, client: 4, f: 'get', call: 8, outcome: 'fail', error: 'NoNode' }),
  ];
  const { ops: out, anomalies } = registerOperations(ops);
  t.same(out.map((o) => o.id), [1, 3, 6, 7], 'the never-applied set, the unknown get and the plain read are left out');
  t.equal(out.find((o) => o.id === 3)?.ret, Infinity, 'an unknown write may take effect any time later');
  t.same(out.find((o) => o.id === 7)?.output, { ok: false, error: 'NoNode' });
  t.same(anomalies.map((a) => a.kind), ['unexpected-error'], 'an error the model does not know is reported and treated as unknown');
  // A set that never happened must not explain a read of its value.
  t.equal(checkLinearizable(registerModel, registerOperations([...ops.slice(0, 2), rop({ id: 9, client: 5, f: 'get', call: 10, gotValue: 'b', gotVersion: 1 })]).ops, 5000).verdict, 'illegal');
});
