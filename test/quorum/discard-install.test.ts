// A member that finds an interrupted snapshot install at start discards its tree and its log (keeping term and vote)
// in LMDB and in the log it goes on with: the engine reads the log once at start and starts its core over that copy,
// so the copy in memory must say what LMDB holds, or the core would start with a commit index past an empty log.
import t from 'tap';
import pino from 'pino';
import { discardInterruptedInstall } from '../../server/quorum/snapshot-transfer.js';
import { RaftLog } from '../../storage/raft-log.js';
import { INSTALL_MARK } from '../../storage/snapshot-file.js';
import { openTestStore } from '../helpers/store.js';
import { entry } from '../helpers/raft-log.js';

const CONF = { voters: [1, 2, 3], learners: [] };

t.test('discarding an interrupted install empties the log in LMDB and in the log object, keeping term and vote', async (tt) => {
  const { store } = openTestStore(tt, 'zkgate-discard-install-');
  const log = new RaftLog(store, CONF);
  let mirror = () => {};
  await store.writeDurably(() => {
    mirror = log.persist([1, 2, 3, 4, 5].map((i) => entry(i, 3, 8)), { term: 3, vote: 2, commit: 5 });
    store.metaPut(INSTALL_MARK, 1);
  });
  mirror();
  tt.ok(store.installInterrupted, 'the mark is set');
  await discardInterruptedInstall(store, log, pino({ level: 'silent' }));
  const want = { first: 1, last: 0, hard: { term: 3, vote: 2, commit: 0 } };
  tt.same({ first: log.firstIndex(), last: log.lastIndex(), hard: log.hardState() }, want, 'the log the engine goes on with');
  const fromLmdb = new RaftLog(store, CONF);
  tt.same({ first: fromLmdb.firstIndex(), last: fromLmdb.lastIndex(), hard: fromLmdb.hardState() }, want, 'what LMDB holds');
  tt.notOk(store.installInterrupted, 'the mark is cleared');
});
