// A WAL-backed Store's reads see applied writes at once, merged with LMDB exactly as LMDB will hold them after the commit and after a reopen.
import t, { type Test } from 'tap';
import { rmSync } from 'node:fs';
import { Store } from '../../storage/store.js';
import type { SessionRecord } from '../../storage/records.js';
import type { TreeView } from '../../storage/view.js';
import { tempDir } from '../helpers/server.js';
import { nodeRecord } from '../helpers/records.js';

const node = nodeRecord;

function session(id: string, createdZxid = 1): SessionRecord {
  return { id, timeoutMs: 30000, createdZxid };
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function dataOf(s: Store, path: string): string | undefined {
  const n = s.getNode(path);
  return n ? Buffer.from(n.data).toString() : undefined;
}

function open(t: Test, dataDir?: string): { store: Store; dataDir: string } {
  const dir = dataDir ?? tempDir('zkgate-pending-');
  if (!dataDir) t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = Store.open({ dataDir: dir, walBacked: true });
  t.teardown(() => store.close());
  return { store, dataDir: dir };
}

/** One group: `fn` gets the view; the group's last zxid is set to `zxid`. */
function apply(s: Store, zxid: number, fn: (v: TreeView) => void, txns = 1): Promise<void> {
  return s.applyPending(txns, (v, setLastZxid) => {
    fn(v);
    setLastZxid(zxid);
  });
}

t.test('reads see a group as soon as it is applied, before and after its commit', async (t) => {
  const { store, dataDir } = open(t);
  let sawOwnWrite = false;
  const p = store.applyPending(2, (v, setLastZxid) => {
    v.putNode('/', { ...node('root'), numChildren: 1 });
    v.putNode('/a', node('A', 'persistent', 1));
    v.bump('znodes', 2);
    v.bump('dataBytes', 5);
    sawOwnWrite = v.getNode('/a') !== undefined && v.childNames('/').join() === 'a';
    setLastZxid(1);
  });
  t.ok(sawOwnWrite, 'the group reads its own writes through the view');
  // Nothing has been awaited: LMDB cannot have committed yet.
  t.equal(store.pendingTxns, 2);
  t.equal(dataOf(store, '/a'), 'A');
  t.same(store.childNames('/'), ['a']);
  t.equal(store.lastZxid(), 1);
  t.same(store.counters(), { znodes: 2, dataBytes: 5, ephemerals: 0 });
  t.equal(store.subtreePaths('/', 10)?.join(), '/a');
  await p;
  t.equal(store.pendingTxns, 0, 'the commit dropped the group from the layer');
  t.equal(dataOf(store, '/a'), 'A', 'and the read now comes from LMDB');
  t.same(store.childNames('/'), ['a']);
  t.equal(store.lastZxid(), 1);
  t.same(store.counters(), { znodes: 2, dataBytes: 5, ephemerals: 0 });

  const q = apply(store, 2, (v) => {
    v.removeNode('/a');
    v.bump('znodes', -1);
    v.bump('dataBytes', -1);
  });
  t.equal(store.getNode('/a'), undefined, 'a pending delete hides the LMDB node');
  t.same(store.childNames('/'), []);
  t.same(store.counters(), { znodes: 1, dataBytes: 4, ephemerals: 0 });
  await q;
  t.equal(store.getNode('/a'), undefined);
  t.same(store.childNames('/'), []);
  await store.close();

  const again = Store.open({ dataDir, walBacked: true });
  t.teardown(() => again.close());
  t.equal(dataOf(again, '/'), 'root');
  t.equal(again.getNode('/a'), undefined);
  t.equal(again.lastZxid(), 2);
  t.same(again.counters(), { znodes: 1, dataBytes: 4, ephemerals: 0 });
});

t.test('applyPending needs a WAL-backed, open store', async (t) => {
  const dir = tempDir('zkgate-pending-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const plain = Store.open({ dataDir: dir });
  await t.rejects(apply(plain, 1, (v) => v.putNode('/x', node('x'))), /WAL-backed/);
  t.equal(plain.getNode('/x'), undefined, 'and changes nothing');
  await plain.close();
  const w = Store.open({ dataDir: dir, walBacked: true });
  await w.close();
  await t.rejects(apply(w, 1, (v) => v.putNode('/x', node('x'))), /closed/);
});

// Names whose UTF-8 byte order differs from JavaScript's UTF-16 order: U+FF61 (EF BD A1) sorts before
// U+1F600 (F0 9F 98 80) in bytes but after its surrogate pair (D83D) in UTF-16.
const HALFWIDTH = '\uFF61';
const EMOJI = '\u{1F600}';

t.test('childNames merges pending creates and deletes with LMDB children in UTF-8 byte order, with limits', async (t) => {
  const { store } = open(t);
  const committed = ['b', 'd', 'Z', HALFWIDTH + 'x', 'a\u00e9', 'n10', 'n2', 'q'];
  await apply(store, 1, (v) => {
    v.putNode('/p', node(''));
    for (const n of committed) v.putNode(`/p/${n}`, node(n));
    v.putNode('/other', node(''));
    v.putNode('/other/x', node(''));
    v.putNode('/p2', node(''));
  });
  t.same(store.childNames('/p'), [...committed].sort(byUtf8), 'LMDB alone is in byte order');

  const created = ['c', EMOJI, 'A', 'e', 'n1', HALFWIDTH];
  const deleted = ['d', 'Z', 'n10'];
  const g = apply(store, 2, (v) => {
    for (const n of created) v.putNode(`/p/${n}`, node(n));
    for (const n of deleted) v.removeNode(`/p/${n}`);
    // An update of an existing child touches the parent's pending set without changing its names.
    v.putNode('/p/b', node('b2'));
    // A node created and deleted in the same group.
    v.putNode('/p/gone', node(''));
    v.removeNode('/p/gone');
    // Deleting a child that was never there.
    v.removeNode('/p/never');
  });
  const expected = [...committed.filter((n) => !deleted.includes(n)), ...created].sort(byUtf8);
  t.notSame(expected, [...expected].sort(), 'the expected order is not UTF-16 order (the test can tell them apart)');
  const check = (when: string) => {
    t.same(store.childNames('/p'), expected, `${when}: all children`);
    for (let limit = 1; limit <= expected.length + 2; limit++) {
      t.same(store.childNames('/p', limit), expected.slice(0, limit), `${when}: limit ${limit}`);
    }
    // A page starts after any name, a child's or not (the emoji's first surrogate sorts apart from it in bytes).
    for (const after of [...expected, 'd', '', 'zzz', EMOJI.slice(0, 1), '\uFFFF', '\u0000', 'c\u0000', 'c\u0000x']) {
      const rest = expected.filter((n) => byUtf8(n, after) > 0);
      t.same(store.childNames('/p', undefined, after), rest, `${when}: after ${JSON.stringify(after)}`);
      for (const limit of [1, 2, 4]) t.same(store.childNames('/p', limit, after), rest.slice(0, limit), `${when}: ${limit} after ${JSON.stringify(after)}`);
    }
    t.same(store.childNames('/other'), ['x'], `${when}: an untouched parent`);
    t.same(store.childNames('/p2'), [], `${when}: a childless parent`);
    t.equal(dataOf(store, '/p/b'), 'b2');
  };
  check('pending');
  await g;
  check('committed');
});

t.test('pending deletes that hide LMDB’s first children do not shorten a limited listing', async (t) => {
  const { store } = open(t);
  const names = Array.from({ length: 12 }, (_, i) => `a${String(i).padStart(2, '0')}`);
  await apply(store, 1, (v) => {
    for (const n of names) v.putNode(`/h/${n}`, node(n));
  });
  // The first five in LMDB's order go, and two new names land among the survivors.
  const g = apply(store, 2, (v) => {
    for (const n of names.slice(0, 5)) v.removeNode(`/h/${n}`);
    v.putNode('/h/a055', node(''));
    v.putNode('/h/zzz', node(''));
  });
  const expected = [...names.slice(5), 'a055', 'zzz'].sort(byUtf8);
  for (const limit of [1, 2, 3, 5, 7, 9]) t.same(store.childNames('/h', limit), expected.slice(0, limit), `limit ${limit}`);
  t.same(store.childNames('/h'), expected);
  await g;
  for (const limit of [1, 3, 7]) t.same(store.childNames('/h', limit), expected.slice(0, limit), `after the commit, limit ${limit}`);

  // Everything LMDB has under a parent deleted in pending: nothing is left to list.
  const h = apply(store, 3, (v) => {
    for (const n of expected) v.removeNode(`/h/${n}`);
  });
  t.same(store.childNames('/h', 3), []);
  t.same(store.childNames('/h'), []);
  await h;
  t.same(store.childNames('/h'), []);
});

t.test('counters and lastZxid follow overlapping groups without counting a group twice', async (t) => {
  const { store, dataDir } = open(t);
  await apply(store, 5, (v) => {
    v.bump('znodes', 10);
    v.bump('dataBytes', 100);
  });
  t.same(store.counters(), { znodes: 10, dataBytes: 100, ephemerals: 0 });
  let seenInside = -1;
  const g1 = apply(store, 6, (v) => {
    v.bump('znodes', 2);
    v.bump('znodes', 1);
    v.bump('ephemerals', 1);
  });
  const g2 = apply(store, 7, (v) => {
    seenInside = store.counters().znodes;
    v.bump('znodes', -4);
    v.bump('dataBytes', 7);
  });
  t.equal(seenInside, 13, 'a group builds on the pending group before it');
  const want = { znodes: 9, dataBytes: 107, ephemerals: 1 };
  t.same(store.counters(), want, 'both pending groups counted once');
  t.equal(store.lastZxid(), 7);
  t.equal(store.pendingTxns, 2);
  // Read at every point the commits resolve: between them nothing may be counted twice or lost.
  const reads: { c: object; z: number }[] = [];
  const track = () => reads.push({ c: store.counters(), z: store.lastZxid() });
  await Promise.all([g1.then(track), g2.then(track)]);
  track();
  for (const r of reads) t.same(r, { c: want, z: 7 }, 'unchanged by the commits');
  t.equal(store.pendingTxns, 0);

  const g3 = apply(store, 8, (v) => v.bump('znodes', -1));
  t.same(store.counters(), { ...want, znodes: 8 });
  await g3;
  await store.close();

  const again = Store.open({ dataDir, walBacked: true });
  t.teardown(() => again.close());
  t.same(again.counters(), { ...want, znodes: 8 }, 'LMDB holds the final values after a reopen');
  t.equal(again.lastZxid(), 8);
});

t.test('sessions, session ephemerals and special nodes merge pending with LMDB', async (t) => {
  const { store } = open(t);
  await apply(store, 1, (v) => {
    v.putSession(session('0x1'));
    v.putSession(session('0x2'));
    v.addEphemeral('0x1', '/e1');
    v.addEphemeral('0x1', '/e3');
    v.addEphemeral('0x2', '/f');
    v.setSpecial('/c1', 'container');
    v.setSpecial('/t1', 'ttl');
    v.setSpecial('/t3', 'ttl');
  });
  const g = apply(store, 2, (v) => {
    v.removeSession('0x2');
    v.removeEphemeral('0x2', '/f');
    v.putSession(session('0x3', 2));
    v.addEphemeral('0x3', '/z');
    v.addEphemeral('0x3', '/' + EMOJI);
    v.addEphemeral('0x3', '/' + HALFWIDTH);
    v.addEphemeral('0x1', '/e2');
    v.removeEphemeral('0x1', '/e1');
    v.setSpecial('/c0', 'container');
    v.setSpecial('/t1', null);
    v.setSpecial('/t2', 'ttl');
  });
  const check = (when: string) => {
    t.same(store.listSessions().map((s) => s.id).sort(), ['0x1', '0x3'], `${when}: sessions`);
    t.equal(store.getSession('0x2'), undefined, `${when}: a removed session is gone`);
    t.equal(store.getSession('0x3')?.createdZxid, 2, `${when}: a new session is there`);
    t.same(store.sessionEphemerals('0x1'), ['/e2', '/e3'], `${when}: ephemerals merged, in order`);
    t.same(store.sessionEphemerals('0x2'), [], `${when}: a removed session's ephemerals are gone`);
    t.same(store.sessionEphemerals('0x3'), ['/z', '/' + HALFWIDTH, '/' + EMOJI], `${when}: a new session's, in UTF-8 order`);
    // Limited and from a point on, as a bounded answer reads them (server/children-listing.ts).
    t.same(store.sessionEphemerals('0x1', 1), ['/e2'], `${when}: the first one (the pending delete of /e1 hides LMDB's first)`);
    t.same(store.sessionEphemerals('0x1', 5, '/e2'), ['/e3'], `${when}: after /e2`);
    t.same(store.sessionEphemerals('0x1', 5, '/e1'), ['/e2', '/e3'], `${when}: after a path no longer there`);
    t.same(store.sessionEphemerals('0x3', 2, '/z'), ['/' + HALFWIDTH, '/' + EMOJI], `${when}: after /z, in UTF-8 order`);
    t.same(store.sessionEphemerals('0x3', 1, '/' + HALFWIDTH), ['/' + EMOJI], `${when}: one after the halfwidth path`);
    // Order is the next test's subject; here, what is listed.
    t.same([...store.specialNodes(100)].sort((a, b) => byUtf8(a.path, b.path)), [
      { path: '/c0', kind: 'container' },
      { path: '/c1', kind: 'container' },
      { path: '/t2', kind: 'ttl' },
      { path: '/t3', kind: 'ttl' },
    ], `${when}: special nodes merged`);
  };
  check('pending');
  await g;
  check('committed');
});

t.test('specialNodes lists the same nodes in the same order before and after the commit', async (t) => {
  const { store } = open(t);
  await apply(store, 1, (v) => {
    for (const p of ['/c1', '/c2', '/c3']) v.setSpecial(p, 'container');
  });
  const g = apply(store, 2, (v) => {
    v.setSpecial('/c0', 'container');
    v.setSpecial('/c2', null);
  });
  const pendingAll = store.specialNodes(10).map((s) => s.path);
  const pendingTwo = store.specialNodes(2).map((s) => s.path);
  await g;
  const committedAll = store.specialNodes(10).map((s) => s.path);
  const committedTwo = store.specialNodes(2).map((s) => s.path);
  t.same(committedAll, ['/c0', '/c1', '/c3'], 'LMDB lists them by path');
  t.same(committedTwo, ['/c0', '/c1'], 'and a bounded listing is the first ones by path');
  t.same(pendingAll, committedAll, 'the pending layer lists them in the same order');
  t.same(pendingTwo, committedTwo, 'and bounds them to the same ones (a pending /c0 is not cut off)');
});

t.test('specialNodes after a path lists the ones past it, pending or committed alike', async (t) => {
  const { store } = open(t);
  await apply(store, 1, (v) => {
    for (const p of ['/c1', '/c2', '/c3', '/c5']) v.setSpecial(p, 'container');
  });
  const g = apply(store, 2, (v) => {
    v.setSpecial('/c4', 'ttl');
    v.setSpecial('/c3', null);
    v.setSpecial('/c0', 'container');
  });
  const listings = () => ({
    afterC1: store.specialNodes(2, '/c1').map((s) => s.path),
    afterGone: store.specialNodes(10, '/c3').map((s) => s.path),
    afterAbsent: store.specialNodes(10, '/c45').map((s) => s.path),
    afterLast: store.specialNodes(10, '/c5').map((s) => s.path),
  });
  const pending = listings();
  await g;
  const committed = listings();
  t.same(committed, { afterC1: ['/c2', '/c4'], afterGone: ['/c4', '/c5'], afterAbsent: ['/c5'], afterLast: [] }, 'strictly after, by path, bounded');
  t.same(pending, committed, 'the pending layer lists the same');
});

t.test('a later group that rewrites a key keeps it when the earlier group commits', async (t) => {
  const { store, dataDir } = open(t);
  await apply(store, 1, (v) => v.putNode('/k', node('')));
  const g1 = apply(store, 2, (v) => {
    v.putNode('/k/x', node('one'));
    v.putNode('/k/y', node('y'));
    v.putSession(session('0xa'));
    v.addEphemeral('0xa', '/k/y');
    v.setSpecial('/k/x', 'container');
    v.bump('znodes', 2);
  });
  const g2 = apply(store, 3, (v) => {
    v.putNode('/k/x', node('two'));
    v.removeNode('/k/y');
    v.removeSession('0xa');
    v.removeEphemeral('0xa', '/k/y');
    v.setSpecial('/k/x', null);
    v.bump('znodes', -1);
  });
  const state = () => ({
    x: dataOf(store, '/k/x'),
    y: store.getNode('/k/y'),
    kids: store.childNames('/k'),
    s: store.getSession('0xa'),
    eph: store.sessionEphemerals('0xa'),
    special: store.specialNodes(10),
    znodes: store.counters().znodes,
    z: store.lastZxid(),
  });
  const want = { x: 'two', y: undefined, kids: ['x'], s: undefined, eph: [], special: [], znodes: 1, z: 3 };
  t.same(state(), want, 'both pending: the later group wins');
  // Synchronously at the earlier group's commit, before anything else can run.
  let atFirstCommit: unknown;
  await Promise.all([g1.then(() => (atFirstCommit = state())), g2]);
  t.same(atFirstCommit, want, 'the earlier commit did not drop the later writes');
  t.same(state(), want, 'after both commits');
  await store.close();

  const again = Store.open({ dataDir, walBacked: true });
  t.teardown(() => again.close());
  t.equal(dataOf(again, '/k/x'), 'two');
  t.equal(again.getNode('/k/y'), undefined);
  t.equal(again.getSession('0xa'), undefined);
  t.same(again.sessionEphemerals('0xa'), []);
  t.same(again.specialNodes(10), []);
  t.equal(again.counters().znodes, 1);
  t.equal(again.lastZxid(), 3);
});

t.test('close waits for pending commits: a reopen finds every applied group in LMDB', async (t) => {
  const { store, dataDir } = open(t);
  const groups: Promise<void>[] = [];
  for (let z = 1; z <= 50; z++) {
    groups.push(
      apply(store, z, (v) => {
        v.putNode(`/r/n${z}`, node(`v${z}`, 'persistent', z));
        if (z > 1) v.putNode(`/r/n${z - 1}`, node(`v${z - 1}-set`, 'persistent', z));
        if (z % 10 === 0) v.removeNode(`/r/n${z - 5}`);
        v.bump('znodes', z % 10 === 0 ? 0 : 1);
        v.putSession(session(`0x${z}`, z));
        if (z % 2 === 0) v.removeSession(`0x${z - 1}`);
      }),
    );
  }
  t.ok(store.pendingTxns > 0, `${store.pendingTxns} txns pending when close starts`);
  const before = {
    kids: store.childNames('/r'),
    data: store.childNames('/r').map((n) => dataOf(store, `/r/${n}`)),
    sessions: store.listSessions().map((s) => s.id).sort(),
    counters: store.counters(),
    zxid: store.lastZxid(),
  };
  t.equal(before.zxid, 50);
  t.equal(before.kids.length, 45);
  await store.close();
  await Promise.all(groups);

  const again = Store.open({ dataDir, walBacked: true });
  t.teardown(() => again.close());
  const after = {
    kids: again.childNames('/r'),
    data: again.childNames('/r').map((n) => dataOf(again, `/r/${n}`)),
    sessions: again.listSessions().map((s) => s.id).sort(),
    counters: again.counters(),
    zxid: again.lastZxid(),
  };
  t.same(after, before, 'the reopened store reads exactly what the pending reads showed');
});
