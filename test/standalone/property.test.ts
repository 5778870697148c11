// Model-based property test: random command sequences run against the real server and against the
// independent model in model.ts; every status, error, path, data and counter must agree.
// Reproduce a failure with FC_SEED=<seed printed in the failure> (and FC_PATH for the shrunk case).
import t from 'tap';
import fc from 'fast-check';
import { HTTP_OF, ZkModel, type MOp, type Mode, type MNode } from './model.js';
import { serverFor, type Client, type Res, type Stat } from './http.js';

const RUNS = 100;
const MAX_COMMANDS = 40;
const { zk } = await serverFor(t);

type Target = { existing: number } | { fixed: string[] };
type Ver = 'any' | 'current' | 'stale';
type Sub =
  | { k: 'create'; parent: Target; name: string; data: string; mode: Mode }
  | { k: 'set'; target: Target; data: string; ver: Ver }
  | { k: 'delete'; target: Target; ver: Ver }
  | { k: 'check'; target: Target; ver: Ver };
type Cmd = Sub | { k: 'get' | 'children' | 'exists'; target: Target } | { k: 'multi'; ops: Sub[] } | { k: 'close' };

const target: fc.Arbitrary<Target> = fc.oneof(
  fc.record({ existing: fc.nat(50) }),
  fc.record({ fixed: fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 0, maxLength: 3 }) }),
);
const ver = fc.constantFrom<Ver>('any', 'current', 'stale');
const data = fc.string({ maxLength: 6 });
const sub: fc.Arbitrary<Sub> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('create' as const), parent: target, name: fc.constantFrom('a', 'b', 'c', 'q-'), data, mode: fc.constantFrom<Mode>('plain', 'plain', 'sequential', 'ephemeral', 'ephemeralSequential') }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('set' as const), target, data, ver }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('delete' as const), target, ver }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('check' as const), target, ver }) },
);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 8, arbitrary: sub },
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('get' as const, 'children' as const, 'exists' as const), target }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('multi' as const), ops: fc.array(sub, { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'close' as const }) },
);

function resolve(m: ZkModel, tg: Target): string {
  if ('existing' in tg) {
    const all = m.paths();
    return all[tg.existing % all.length] as string;
  }
  return [m.root, ...tg.fixed].join('/');
}

function version(m: ZkModel, path: string, v: Ver): number {
  const cur = m.get(path)?.version ?? 0;
  return v === 'any' ? -1 : v === 'current' ? cur : cur + 1;
}

/** A sub-command as the model's op, resolved against the model's state before it runs. */
function toOp(m: ZkModel, s: Sub): MOp {
  switch (s.k) {
    case 'create':
      return { op: 'create', path: `${resolve(m, s.parent)}/${s.name}`, data: s.data, mode: s.mode };
    case 'set': {
      const path = resolve(m, s.target);
      return { op: 'set', path, data: s.data, version: version(m, path, s.ver) };
    }
    case 'delete': {
      let path = resolve(m, s.target);
      if (path === m.root) path += '/a'; // the run's root stays
      return { op: 'delete', path, version: version(m, path, s.ver) };
    }
    case 'check': {
      const path = resolve(m, s.target);
      return { op: 'check', path, version: version(m, path, s.ver) };
    }
  }
}

const MODE_QUERY: Record<Mode, string> = { plain: '', sequential: 'sequential', ephemeral: 'ephemeral', ephemeralSequential: 'ephemeral&sequential' };
const MODE_NAME: Record<Mode, string> = { plain: 'PERSISTENT', sequential: 'PERSISTENT_SEQUENTIAL', ephemeral: 'EPHEMERAL', ephemeralSequential: 'EPHEMERAL_SEQUENTIAL' };
const isEph = (o: MOp) => o.op === 'create' && (o.mode === 'ephemeral' || o.mode === 'ephemeralSequential');

class Mismatch extends Error {}
function expectEq(what: string, server: unknown, model: unknown): void {
  if (JSON.stringify(server) !== JSON.stringify(model)) throw new Mismatch(`${what}: server ${JSON.stringify(server)} ≠ model ${JSON.stringify(model)}`);
}

function statView(s: Stat | undefined): unknown {
  return s && { version: s.version, cversion: s.cversion, numChildren: s.numChildren, dataLength: s.dataLength, ephemeralOwner: s.ephemeralOwner };
}
function modelStat(m: ZkModel, n: MNode | undefined): unknown {
  return n && { version: n.version, cversion: n.changes, numChildren: n.children.size, dataLength: Buffer.byteLength(n.data), ephemeralOwner: n.owner ?? '0x0' };
}

async function write(c: Client, m: ZkModel, o: MOp, label: string): Promise<void> {
  let r: Res;
  const session: Record<string, string> = isEph(o) ? { 'zk-session': m.session } : {};
  if (o.op === 'create') r = await c.create(o.path, o.data, MODE_QUERY[o.mode], session);
  else if (o.op === 'set') r = await c.set(o.path, o.data, `version=${o.version}`);
  else if (o.op === 'delete') r = await c.delete(o.path, `version=${o.version}`);
  else r = await c.multi([{ op: 'check', path: o.path, version: o.version }]);
  const out = m.apply(o);
  if (!out.ok) {
    expectEq(`${label} status`, [r.status, r.body.error], [HTTP_OF[out.error], out.error]);
    return;
  }
  expectEq(`${label} status`, r.status, o.op === 'create' ? 201 : o.op === 'delete' ? 204 : 200);
  if (o.op === 'create') expectEq(`${label} path`, r.body.path, out.path);
  if (o.op === 'create' || o.op === 'set') expectEq(`${label} stat`, statView(r.body.stat), modelStat(m, out.node));
}

async function multi(c: Client, m: ZkModel, ops: MOp[], label: string): Promise<void> {
  const eph = ops.some(isEph);
  const wire = ops.map((o) =>
    o.op === 'create' ? { op: 'create', path: o.path, data: o.data, mode: MODE_NAME[o.mode] } : { op: o.op, path: o.path, version: o.version, ...(o.op === 'set' ? { data: o.data } : {}) },
  );
  const r = await c.multi(wire, eph ? { 'zk-session': m.session } : {});
  if (eph && !m.sessionOpen) {
    expectEq(`${label} closed-session multi`, [r.status, r.body.error], [410, 'SessionExpired']);
    return;
  }
  const out = m.multi(ops);
  if (!out.ok) {
    expectEq(`${label} failed multi`, [r.status, r.body.error, (r.body.results ?? []).map((x) => x.error)], [HTTP_OF[out.error], out.error, out.results]);
    return;
  }
  expectEq(`${label} status`, r.status, 200);
  expectEq(
    `${label} results`,
    r.body.results.map((x) => [x.op, x.path ?? null, statView(x.stat) ?? null]),
    out.outs.map((x, i) => {
      const o = ops[i] as MOp;
      return [o.op, o.op === 'create' ? x.ok && x.path : null, o.op === 'create' || o.op === 'set' ? (x.ok && modelStat(m, x.node)) ?? null : null];
    }),
  );
}

async function read(c: Client, m: ZkModel, k: 'get' | 'children' | 'exists', path: string, label: string): Promise<void> {
  const r = await c.get(path, k === 'get' ? 'encoding=base64' : k === 'children' ? 'children' : 'stat');
  const n = m.get(path);
  if (!n) {
    expectEq(`${label}`, [r.status, r.body.error], [404, 'NoNode']);
    return;
  }
  expectEq(`${label} status`, r.status, 200);
  expectEq(`${label} stat`, statView(r.body.stat), modelStat(m, n));
  if (k === 'get') expectEq(`${label} data`, Buffer.from(r.body.data, 'base64').toString('utf8'), n.data);
  if (k === 'children') expectEq(`${label} children`, r.body.children, [...n.children].sort());
}

/** The whole subtree in one multiRead: data, stat and children of every node the model has, and no others. */
async function compareAll(c: Client, m: ZkModel): Promise<void> {
  const paths = m.paths();
  const r = await c.multi(paths.flatMap((p) => [{ op: 'get', path: p, encoding: 'base64' }, { op: 'children', path: p }]));
  expectEq('final multiRead status', r.status, 200);
  paths.forEach((p, i) => {
    const n = m.get(p) as MNode;
    const g = r.body.results[2 * i];
    const ch = r.body.results[2 * i + 1];
    expectEq(`final ${p} data`, Buffer.from(g?.data ?? '', 'base64').toString('utf8'), n.data);
    expectEq(`final ${p} stat`, statView(g?.stat), modelStat(m, n));
    expectEq(`final ${p} children`, ch?.children, [...n.children].sort());
  });
}

let runNo = 0;
async function runOnce(cmds: Cmd[]): Promise<void> {
  const root = `/run${runNo++}`;
  const sid = await zk.session(30000);
  if ((await zk.create(root)).status !== 201) throw new Error(`could not create ${root}`);
  const m = new ZkModel(root, sid);
  try {
    for (const [i, c] of cmds.entries()) {
      const label = `#${i} ${JSON.stringify(c)}`;
      switch (c.k) {
        case 'create':
        case 'set':
        case 'delete':
        case 'check':
          await write(zk, m, toOp(m, c), label);
          break;
        case 'multi':
          await multi(zk, m, c.ops.map((s) => toOp(m, s)), label);
          break;
        case 'get':
        case 'children':
        case 'exists':
          await read(zk, m, c.k, resolve(m, c.target), label);
          break;
        case 'close': {
          const r = await zk.call('DELETE', `/v1/sessions/${sid}`);
          expectEq(`${label} status`, r.status, m.sessionOpen ? 204 : 410);
          m.closeSession();
          break;
        }
      }
    }
    await compareAll(zk, m);
  } finally {
    if (m.sessionOpen) await zk.call('DELETE', `/v1/sessions/${sid}`);
  }
}

t.test('random command sequences agree with the model of ZooKeeper', async (t) => {
  const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const details = await fc.check(fc.asyncProperty(fc.array(cmd, { maxLength: MAX_COMMANDS }), runOnce), {
    numRuns: RUNS,
    seed,
    path: process.env.FC_PATH,
    endOnFailure: !process.env.FC_SHRINK,
  });
  if (details.failed) {
    t.fail(`seed ${seed} path ${details.counterexamplePath}: ${String(details.errorInstance)}\ncommands: ${JSON.stringify(details.counterexample)}`);
  } else {
    t.equal(details.numRuns, RUNS, `${RUNS} runs of up to ${MAX_COMMANDS} commands agreed`);
  }
});
