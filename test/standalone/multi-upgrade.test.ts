// A multi whose later op is invalid is carried to the log with a stand-in for that op: a member of an older version,
// which knows nothing of the `invalid` field, must fail it too (and apply nothing), or a rolling upgrade parts the trees.
import t from 'tap';
import { rmSync } from 'node:fs';
import { Store } from '../../storage/store.js';
import { ZkError } from '../../server/errors.js';
import { OPEN_ACL_UNSAFE } from '../../server/tree/acl.js';
import { applyTxn } from '../../server/tree/apply.js';
import { prepareMulti } from '../../server/tree/prepare.js';
import type { ApplyResult, Txn } from '../../server/tree/types.js';
import { tempDir } from '../helpers/server.js';
import { nodeRecord } from '../helpers/records.js';

const root = nodeRecord('');

t.test('the multi fails on this apply with the carried error, and on an apply that ignores `invalid` as well', async (t) => {
  const dir = tempDir();
  const store = Store.open({ dataDir: dir });
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await store.writeDurably((v) => v.putNode('/', root));
  const prepared = prepareMulti(
    [{ type: 'create', path: '/a', data: new Uint8Array(0), acl: OPEN_ACL_UNSAFE, mode: 'PERSISTENT', ttlMs: 0, parents: false }, new ZkError('BadArguments', 'bad op')],
    { auth: [], session: '' },
    1,
  );
  if (!('txn' in prepared)) throw new Error('expected a transaction: only an invalid first op fails before the log');
  const apply = async (txn: Txn, zxid: number): Promise<ApplyResult> => {
    let r: ApplyResult | undefined;
    await store.writeDurably((v) => {
      r = applyTxn(v, txn, zxid);
    });
    return r as ApplyResult;
  };
  const now = await apply(prepared.txn, 1);
  t.equal(now.outcome.ok, false);
  if (!now.outcome.ok) {
    t.equal(now.outcome.error.zkName, 'BadArguments', 'this version reports the invalid op');
    t.same(now.outcome.results, [{ error: 'Ok', code: 0 }, { error: 'BadArguments', code: -8 }]);
  }
  t.equal(store.getNode('/a'), undefined, 'nothing applied');
  // What an older member does with the same entry: it reads the ops and knows no `invalid`.
  const { invalid: _ignored, ...older } = prepared.txn as Txn & { invalid?: unknown };
  const old = await apply(older as Txn, 2);
  t.equal(old.outcome.ok, false, 'an apply that ignores `invalid` fails the multi too');
  t.equal(store.getNode('/a'), undefined, 'and applies none of it: the trees stay alike');
});
