// A follower that discarded an interrupted snapshot install restarts with an empty log, while its leader still holds
// the match it acknowledged before (heartbeats carry min(match, commit)). It must take the heartbeat, commit no more
// than it holds, and answer, so that the leader goes on to send it the snapshot again: it crashed on every heartbeat.
import t from 'tap';
import { RawNode } from '../../server/quorum/core/rawnode.js';
import { FixedRand } from '../../server/quorum/core/rand.js';
import { MemoryStorage } from '../../server/quorum/core/storage.js';

t.test('a heartbeat committing past an emptied log is taken and answered; commit stays within the log', async (tt) => {
  const storage = new MemoryStorage();
  storage.setHardState({ term: 3, vote: 1, commit: 0 });
  const raw = new RawNode({ id: 2, voters: [1, 2, 3], rand: new FixedRand(), applied: 0 }, storage);
  tt.doesNotThrow(() => raw.step({ type: 'heartbeat', from: 1, to: 2, term: 3, commit: 27069, ctx: new Uint8Array(0) }));
  const ready = raw.ready();
  tt.equal(raw.status().commit, 0, 'nothing is committed beyond the last index (0)');
  tt.ok(
    ready.messages.some((m) => m.type === 'heartbeatResp' && m.to === 1),
    'the heartbeat is answered, so the leader keeps the follower and sends it what it lacks',
  );
  tt.equal(raw.status().leaderId, 1);
});
