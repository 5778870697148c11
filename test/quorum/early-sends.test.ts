// Which of a Ready's messages the engine sends before the Ready's write is durable (server/quorum/early-sends.ts).
import t from 'tap';
import { earlySends } from '../../server/quorum/early-sends.js';
import type { HardState, Message, Ready } from '../../server/quorum/core/index.js';

const app: Message = { type: 'app', from: 1, to: 2, term: 3, index: 4, logTerm: 3, commit: 4, entries: [], history: 9 };
const heartbeat: Message = { type: 'heartbeat', from: 1, to: 3, term: 3, commit: 4, ctx: new Uint8Array(0), history: 9 };
const vote: Message = { type: 'voteResp', from: 1, to: 3, term: 3, reject: true };

function ready(hardState: HardState | null): Ready {
  return { softState: null, hardState, readStates: [], entries: [], snapshot: null, committedEntries: [], messages: [app, heartbeat, vote], mustSync: true };
}

t.test("a leader's appends and heartbeats leave early; nothing else, and nothing of a follower", async (t) => {
  const durable = { term: 3, vote: 1, commit: 4, history: 9 };
  t.same(earlySends('leader', ready(null), durable), [app, heartbeat]);
  t.same(earlySends('leader', ready({ term: 3, vote: 1, commit: 5, history: 9 }), durable), [app, heartbeat], 'a commit moving does not hold them');
  t.same(earlySends('follower', ready(null), durable), []);
  t.same(earlySends('candidate', ready(null), durable), []);
});

t.test('a Ready that draws the history sends nothing before the history is durable', async (t) => {
  t.same(earlySends('leader', ready({ term: 1, vote: 1, commit: 0, history: 9 }), { term: 1, vote: 1, commit: 0 }), []);
  t.same(earlySends('leader', ready({ term: 1, vote: 1, commit: 0, history: 9 }), { term: 1, vote: 1, commit: 0, history: 9 }), [app, heartbeat], 'once durable, as before');
});
