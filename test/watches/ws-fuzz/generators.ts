// The fast-check generators of frames, connection plans and concurrent writes, weighted towards well-formed watches
// on the paths the writer changes, so that watches are armed and fire between the replies.
import fc from 'fast-check';
import { KINDS, isPlainObject } from './oracle.js';
import { FUTURE_ZXID, LOW_ZXID, MAX_FRAME, bigData } from './server.js';

// ---- generators ----

const anyJson = fc.jsonValue({ maxDepth: 2 });
const idArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(-0, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 60), 1e300, 0.5, -1.25, 'x'.repeat(256), 'x'.repeat(257), '', null, true, false) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: anyJson },
);
const validPathArb = fc.constantFrom('/', '/f', '/f/a', '/f/b', '/f/a/c', '/f/b/d', '/f/ü', '/f/q', '/big', '/bin', '/missing', '/missing/x/y', '/zookeeper', '/zookeeper/config', '/secret', '/secret/c', '/f/a.b', '/f/...', '/f/a/' + 'n'.repeat(300));
const badPathArb = fc.constantFrom(
  '', 'f', 'f/a', '/f/', '//', '//f', '/f//a', '/f/.', '/f/..', '/.', '/..', '/f/./a', '/f\u0000', '/f\u0001x', '/f\u007f', '/f\u0085', '/f\ud800', '/f\udfff',
  '/f\ue000', '/f\uf8ff', '/f\ufff0', '/f\uffff', '/' + 'x'.repeat(1899), '/' + 'x'.repeat(1900), '/' + 'é'.repeat(949), '/' + 'é'.repeat(950), '/f/a/',
);
const pathArb = fc.oneof(
  { weight: 8, arbitrary: validPathArb },
  { weight: 3, arbitrary: badPathArb },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }).map((x) => '/f/' + x) },
  { weight: 1, arbitrary: anyJson },
);
const kindArb = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...KINDS) },
  { weight: 1, arbitrary: fc.constantFrom('Data', 'persistent ', 'recursive', '', 'exists\u0000', 'PERSISTENT_RECURSIVE') },
  { weight: 1, arbitrary: anyJson },
);
const sinceArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: LOW_ZXID }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: LOW_ZXID }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('007', '0', '00000000000000000000000000001') },
  { weight: 1, arbitrary: fc.constantFrom(FUTURE_ZXID, String(FUTURE_ZXID), 2 ** 53 - 1) },
  { weight: 1, arbitrary: fc.constantFrom('99999999999999999999', 2 ** 53 + 2, 1e300, '9007199254740993') },
  { weight: 2, arbitrary: fc.constantFrom(-1, '-1', '1e3', '', ' 1', '0x10', 1.5, null, true, {}, [], 'abc', Number.MAX_VALUE) },
);
const encodingArb = fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constantFrom('utf8', 'base64') }, { weight: 1, arbitrary: fc.constantFrom('hex', 'UTF8', 1, null) });
const extraArb = fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'ID', 'more', 'constructor', 'toString', 'sinceZxid', 'watches'), anyJson) });
/** Session ids: placeholders for this run's sessions (resolved when sent), spellings of them, and garbage. */
const sessionArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('§S0§', '§S1§', '§S0^§', '§S1z§', ' §S0§\t', '§C§') },
  { weight: 2, arbitrary: fc.constantFrom('0x1', '0xdeadbeef', '0X0', '0x0000000000000000', '0x00000000000000001', '0x' + 'f'.repeat(16), '0x' + 'f'.repeat(17)) },
  { weight: 2, arbitrary: fc.constantFrom('', '   ', 'x', '0x', '0xg', '1234', '0x-1', '0x1 2', 'null', '\u00a00x1\u2028', '0x' + '1'.repeat(70)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
  { weight: 1, arbitrary: anyJson },
);

const withExtra = (o: Record<string, unknown>, extra: [string, unknown] | undefined) => (extra ? { ...o, [extra[0]]: extra[1] } : o);
const watchFrame = fc
  .record({ id: idArb, path: pathArb, kind: kindArb, sinceZxid: sinceArb, encoding: encodingArb, extra: extraArb })
  .map(({ extra, ...f }) => JSON.stringify(withExtra({ op: 'watch', ...f }, extra)));
/** Mostly well-formed watches, so that many are armed and fire. */
const cleanWatchFrame = fc
  .record({ id: fc.integer({ min: 0, max: 1000 }), path: fc.constantFrom('/', '/f', '/f/a', '/f/b', '/f/a/c', '/f/q', '/big', '/secret/c', '/missing'), kind: fc.constantFrom(...KINDS), sinceZxid: fc.option(fc.integer({ min: 0, max: LOW_ZXID }), { nil: undefined, freq: 4 }) })
  .map((f) => JSON.stringify({ op: 'watch', ...f }));
const resumeWatch = fc.record({ path: pathArb, kind: kindArb, encoding: encodingArb });
const resumeFrame = fc
  .record({
    id: idArb,
    sinceZxid: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 6 }) }, { weight: 1, arbitrary: sinceArb }),
    watches: fc.oneof({ weight: 8, arbitrary: fc.array(resumeWatch, { minLength: 1, maxLength: 5 }) }, { weight: 1, arbitrary: fc.array(resumeWatch, { minLength: 10, maxLength: 14 }) }, { weight: 1, arbitrary: fc.constantFrom([], null, 'x', [1], [{}]) }),
    more: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constantFrom(false, 'true', 1, null) }),
    extra: extraArb,
  })
  .map(({ extra, ...f }) => JSON.stringify(withExtra({ op: 'resume', ...f }, extra)));
const unwatchFrame = fc
  .record({ id: idArb, path: pathArb, kind: kindArb, extra: extraArb })
  .map(({ extra, ...f }) => JSON.stringify(withExtra({ op: 'unwatch', ...f }, extra)));
const sessionFrame = fc
  .record({ id: idArb, sessionId: sessionArb, extra: extraArb })
  .map(({ extra, ...f }) => JSON.stringify(withExtra({ op: 'session', ...f }, extra)));
const pingFrame = fc.record({ id: idArb, extra: extraArb }).map(({ extra, ...f }) => JSON.stringify(withExtra({ op: 'ping', ...f }, extra)));
const unknownOpFrame = fc
  .record({ id: idArb, op: fc.oneof(fc.constantFrom('Watch', 'PING', 'resume ', 'unwatchAll', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''), fc.string({ maxLength: 10 }), anyJson, fc.constant(undefined)) })
  .map((f) => JSON.stringify(f));
const notObjectFrame = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }).filter((v) => !isPlainObject(v)).map((v) => JSON.stringify(v)),
  fc.constantFrom('{', '{"id":1,', 'nul', '{"op":"ping"}}', "{'op':'ping'}", '\u0000', ' ', '{"op":"ping",}', 'NaN', '[1,]', '"\\ud800"', '\ufeff{"op":"ping"}', '', '{"id":1,"op":"ping"}\n{"id":2,"op":"ping"}'),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
/** JSON the parser takes but that is unusual: duplicate keys, __proto__, deep nesting, numbers at the edges. */
const oddJsonFrame = fc.oneof(
  fc.constantFrom(
    '{"id":1,"op":"watch","op":"ping"}',
    '{"__proto__":{"op":"ping"},"id":3}',
    '{"op":"ping","__proto__":{"id":1}}',
    '{"id":1e999,"op":"ping"}',
    '{"id":-0,"op":"ping"}',
    '{"id":1.0,"op":"ping"}',
    '{"id":123456789012345678901234567890,"op":"ping"}',
    '{"op":"watch","path":"/f","kind":"data","sinceZxid":1e1}',
    '{"op":"watch","path":"/f","kind":"data","sinceZxid":1.0}',
    '{"op":"session","sessionId":"\\u0030x1"}',
    '{"op":"watch","path":"\\/f","kind":"exists"}',
    '{"op":"watch","path":"/f\\u0000","kind":"exists"}',
    ' \n\t{"id":"ws","op":"ping"} \n',
  ),
  fc.integer({ min: 1, max: 7000 }).map((d) => `{"id":"deep","op":${'['.repeat(d)}${']'.repeat(d)}}`),
  fc.integer({ min: 1, max: 2000 }).map((d) => `{"id":"deep","op":"ping","x":${'{"a":'.repeat(d)}1${'}'.repeat(d)}}`),
  fc.integer({ min: 1, max: 3000 }).map((d) => `{"id":"deep","op":"watch","path":"/f","kind":"data","sinceZxid":${'['.repeat(d)}${']'.repeat(d)}}`),
);

export type Action =
  | { t: 'text'; text: string }
  | { t: 'binary'; bytes: Uint8Array }
  | { t: 'big'; size: number; binary: boolean }
  | { t: 'burst'; n: number; pad: number }
  | { t: 'sleep'; ms: number };

export const textAction = fc
  .oneof(
    { weight: 8, arbitrary: watchFrame },
    { weight: 8, arbitrary: cleanWatchFrame },
    { weight: 3, arbitrary: resumeFrame },
    { weight: 4, arbitrary: unwatchFrame },
    { weight: 3, arbitrary: sessionFrame },
    { weight: 3, arbitrary: pingFrame },
    { weight: 2, arbitrary: unknownOpFrame },
    { weight: 2, arbitrary: notObjectFrame },
    { weight: 1, arbitrary: oddJsonFrame },
  )
  .map((text): Action => ({ t: 'text', text }));
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 30, arbitrary: textAction },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes): Action => ({ t: 'binary', bytes })) },
  { weight: 1, arbitrary: fc.record({ size: fc.integer({ min: MAX_FRAME + 1, max: 3 * MAX_FRAME }), binary: fc.boolean() }).map((b): Action => ({ t: 'big', ...b })) },
  { weight: 1, arbitrary: fc.record({ n: fc.integer({ min: 20, max: 120 }), pad: fc.constantFrom(0, 200, 1500) }).map((b): Action => ({ t: 'burst', ...b })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 15 }).map((ms): Action => ({ t: 'sleep', ms })) },
);

type Ending = { how: 'close' } | { how: 'closeCode'; code: number; reason: string } | { how: 'closeEarly' } | { how: 'terminate'; afterMs: number };
export const endingArb: fc.Arbitrary<Ending> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Ending>({ how: 'close' }) },
  {
    weight: 2,
    arbitrary: fc
      .record({ code: fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1011, 1014, 3000, 4000, 4999), reason: fc.string({ maxLength: 30 }).filter((r) => Buffer.byteLength(r) <= 123) })
      .map((c): Ending => ({ how: 'closeCode', ...c })),
  },
  { weight: 1, arbitrary: fc.constant<Ending>({ how: 'closeEarly' }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20 }).map((afterMs): Ending => ({ how: 'terminate', afterMs })) },
);

export type Write =
  | { w: 'create'; path: string; data: string }
  | { w: 'set'; path: string; data: string }
  | { w: 'delete'; path: string }
  | { w: 'multi'; paths: string[] }
  | { w: 'ephemeral'; session: number }
  | { w: 'closeSession'; session: number }
  | { w: 'sequential' }
  | { w: 'secret' };
export const writeArb: fc.Arbitrary<Write> = fc.oneof(
  fc.record({ path: fc.constantFrom('/f/a', '/f/b', '/f/a/c', '/f/b/d', '/f/ü'), data: fc.string({ maxLength: 20 }) }).map((x): Write => ({ w: 'create', ...x })),
  fc.record({ path: fc.constantFrom('/f/a', '/f/b', '/f', '/secret/c', '/big'), data: fc.string({ maxLength: 20 }) }).map((x): Write => ({ w: 'set', ...x, data: x.path === '/big' ? bigData : x.data })),
  fc.constantFrom('/f/a', '/f/b', '/f/a/c', '/f/ü', '/f/q').map((path): Write => ({ w: 'delete', path })),
  fc.subarray(['/f/a', '/f/a/c', '/f/b', '/f/b/d'], { minLength: 1 }).map((paths): Write => ({ w: 'multi', paths })),
  fc.integer({ min: 0, max: 1 }).map((session): Write => ({ w: 'ephemeral', session })),
  fc.integer({ min: 0, max: 1 }).map((session): Write => ({ w: 'closeSession', session })),
  fc.constant<Write>({ w: 'sequential' }),
  fc.constant<Write>({ w: 'secret' }),
);

export interface ConnPlan {
  actions: Action[];
  ending: Ending;
  /** Stop reading for a while after sending (no pongs, replies pile up). */
  stallMs: number;
}
const connArb: fc.Arbitrary<ConnPlan> = fc.record({
  // Half the connections first watch the whole tree, so that the writes reach them as events between the replies.
  actions: fc
    .tuple(fc.boolean(), fc.array(actionArb, { minLength: 1, maxLength: 24 }))
    .map(([all, as]) => (all ? [{ t: 'text', text: '{"id":"all","op":"watch","path":"/","kind":"persistentRecursive"}' } as Action, ...as] : as)),
  ending: endingArb,
  stallMs: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 80 }) }),
});
export interface RunPlan {
  conns: ConnPlan[];
  writes: Write[];
}
export const runArb: fc.Arbitrary<RunPlan> = fc.record({ conns: fc.array(connArb, { minLength: 1, maxLength: 3 }), writes: fc.array(writeArb, { minLength: 0, maxLength: 20 }) });
