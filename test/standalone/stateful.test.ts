// Model-based (stateful) test of znode semantics against a real standalone server (real LMDB in a temp dir, real
// HTTP on a loopback port, undici as the client). fast-check generates command sequences (fc.commands) over a
// small path universe, so that NodeExists, NoNode, NotEmpty, BadVersion and NoChildrenForEphemerals happen
// often; each command runs against the server and against the in-memory model (stateful/zk-model.ts), and every
// status, error name and code, body shape, stat field, ETag, Location and ZK-Zxid must agree. The model is written
// from API.md §2–§4 and ZOOKEEPER.md (stat rules, sequential counters, multi results), not from server/tree.
//
// Per node the model keeps data, version, reported cversion, aversion, numChildren (its child set), the
// ephemeralOwner, the sequential counter (children ever created), czxid/mzxid/pzxid and ctime/mtime. zxids are
// checked as relations: nothing but the test writes (sessions never expire, containers are never swept), so the
// ZK-Zxid of a write's answer is that write's zxid; czxid = the creating write's zxid, mzxid = the last set's,
// pzxid = the last child create/delete's; zxids strictly increase over writes (failed ones too, README
// "Choices"); a read answers with the last zxid written. ctime/mtime must fall inside the request's time window.
// Restarts reopen the same dataDir: the tree, the counters, the zxid and the sessions (README: sessions survive
// restarts) must all be there. Commands: create (plain, sequential, ephemeral, container, TTL, ?parents), set and
// delete (?version, If-Match, ?recursive), setACL, multi (1–4 ops; ZooKeeper's per-op results on failure), reads
// (getData plain/base64/octets, ?children, ?stat, HEAD, multiRead), sessions (create, close, info, keepalive, a
// ZK-Session in any spelling of the id), batches of concurrent requests (some order must explain every answer),
// restarts and whole-tree walks. Each sequence runs on a fresh server, starting with a session and a few nodes.
//
// Environment (for longer campaigns and replays): MODEL_SEED, MODEL_RUNS, MODEL_MAX_COMMANDS, MODEL_PATH and
// MODEL_REPLAY (fast-check's path and commands replayPath of a failure), MODEL_SHRINK=1 (shrink a failure instead of
// stopping at the first failing sequence).
import t from 'tap';
import fc from 'fast-check';
import { checkSessions, TALLY, walk } from './stateful/checks.js';
import { commandArb } from './stateful/commands.js';
import { MultiCmd, type MultiOpGen } from './stateful/multi.js';
import { FIXED, type Target } from './stateful/params.js';
import { Real } from './stateful/real.js';
import { NewSessionCmd } from './stateful/sessions.js';
import { Model } from './stateful/zk-model.js';

const envInt = (name: string, dflt: number): number => (process.env[name] ? Number(process.env[name]) : dflt);
const SEED = envInt('MODEL_SEED', 20250917);
const RUNS = envInt('MODEL_RUNS', 30);
const MAX_COMMANDS = envInt('MODEL_MAX_COMMANDS', 60);

// ---------------------------------------------------------------------------------------------------------------

interface RunStats {
  runs: number;
  commands: number;
  restarts: number;
}

/** One fresh server per sequence: the fresh tree is checked, the commands run, and the whole state compared at the end. */
function property(stats: RunStats) {
  return fc.asyncProperty(fc.commands([commandArb], { maxCommands: MAX_COMMANDS, size: 'max', replayPath: process.env.MODEL_REPLAY }), async (cmds) => {
    const real = await Real.start();
    const model = new Model();
    try {
      await walk('initial tree', model, real);
      // A session and a few nodes from the start (through checked commands), so that ephemeral creates, sets,
      // deletes and multis meet existing nodes early in a sequence.
      await new NewSessionCmd().run(model, real);
      const fixed = (i: number): Target => ({ k: 'fixed', i });
      const seed: MultiOpGen[] = [0, 1, 2, 4, 5].map((i) => ({ op: 'create', at: { k: 'path', t: fixed(i) }, data: [...Buffer.from(FIXED[i] as string)], mode: 'DEFAULT', utf8: true }));
      await new MultiCmd(seed, null).run(model, real);
      const list = [...cmds];
      await fc.asyncModelRun(() => ({ model, real }), list);
      await walk('final walk', model, real);
      await checkSessions('final sessions', model, real);
      stats.runs++;
      stats.commands += list.length;
      stats.restarts += real.restarts;
    } finally {
      await real.stop();
    }
  });
}

t.test('znode semantics agree with the model of ZooKeeper over random command sequences', async (t) => {
  const stats: RunStats = { runs: 0, commands: 0, restarts: 0 };
  const t0 = Date.now();
  const details = await fc.check(property(stats), {
    seed: SEED,
    numRuns: RUNS,
    path: process.env.MODEL_PATH,
    endOnFailure: process.env.MODEL_SHRINK !== '1',
  });
  t.comment([...TALLY].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k}: ${n}`).join(', '));
  t.comment(`seed ${SEED}: ${stats.runs} sequences, ${stats.commands} commands, ${stats.restarts} restarts in ${Date.now() - t0} ms`);
  if (details.failed) {
    const cmds = details.counterexample?.[0];
    // The iterable's own toString ends with fast-check's replayPath (for MODEL_REPLAY, with MODEL_SEED and MODEL_PATH).
    const replay = /replayPath="([^"]*)"/.exec(String(cmds))?.[1] ?? '';
    t.fail(
      `seed ${SEED} path ${details.counterexamplePath} replayPath ${replay}: ${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}\n` +
        `commands:\n  ${(cmds ? [...cmds] : []).map(String).join('\n  ')}`,
    );
  } else {
    t.equal(details.numRuns, RUNS, `${RUNS} sequences of up to ${MAX_COMMANDS} commands agreed with the model`);
  }
});
