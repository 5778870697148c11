// Restart and Walk, and the weighted mix of every command that fc.commands draws a sequence from: the
// weights decide which answers a run of the model test covers.
import fc from 'fast-check';
import { checkSessions, walk } from './checks.js';
import { Cmd } from './cmd.js';
import { concurrentArb } from './concurrent.js';
import { multiArb } from './multi.js';
import { multiReadArb, readArb } from './reads.js';
import type { Real } from './real.js';
import { sessionCmdArb } from './sessions.js';
import { createArb, deleteArb, setAclArb, setArb } from './writes.js';
import type { Model } from './zk-model.js';

// ---- restart and walks

class RestartCmd extends Cmd {
  describe(): string {
    return 'Restart()';
  }
  async run(m: Model, r: Real): Promise<void> {
    await r.restart();
    const ctx = this.ctx();
    // Nothing is written by a restart: the tree, the counters, the last zxid and the sessions are as they were.
    await walk(`${ctx} after restart`, m, r);
    await checkSessions(`${ctx} after restart`, m, r);
  }
}

class WalkCmd extends Cmd {
  describe(): string {
    return 'Walk()';
  }
  async run(m: Model, r: Real): Promise<void> {
    await walk(this.ctx(), m, r);
  }
}

export const commandArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 14, arbitrary: createArb },
  { weight: 5, arbitrary: setArb },
  { weight: 4, arbitrary: deleteArb },
  { weight: 4, arbitrary: multiArb },
  { weight: 6, arbitrary: readArb },
  { weight: 1, arbitrary: multiReadArb },
  { weight: 3, arbitrary: concurrentArb },
  { weight: 1, arbitrary: setAclArb },
  { weight: 3, arbitrary: sessionCmdArb },
  { weight: 1, arbitrary: fc.constant(null).map(() => new RestartCmd()) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new WalkCmd()) },
);
