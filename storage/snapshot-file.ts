// Snapshot files (a compacted copy of a store's environment, see Store.backupTo): what one holds, and replacing
// a store's tree with one. A replace runs in bounded batches under the `snap.installing` mark, so a crash half-way
// is seen at the next start (Store.installInterrupted) instead of leaving a mix of old and new state unnoticed.
import { open, type Database, type RootDatabase } from 'lmdb';
import type { NodeRecord } from './records.js';
import { NODES_DB_OPTIONS } from './node-codec.js';
import { nodeKey, REPLACED_DBS, type TreeDbs } from './schema.js';
import type { Store } from './store.js';

/** In meta while a snapshot install is under way. */
export const INSTALL_MARK = 'snap.installing';

export interface SnapshotInfo {
  zxid: number;
  znodes: number;
  /** The consensus term of `zxid`, from the copy's own log, when it holds one (an ensemble member's copy). */
  term?: number;
}

/** The term of `zxid` in the consensus log the copy holds (storage/raft-log.ts keeps it there), if it has it. */
function termIn(env: RootDatabase, meta: Database<number, string>, zxid: number): number | undefined {
  const snap = (meta as unknown as Database<{ index: number; term: number }, string>).get('raft.snap');
  if (snap?.index === zxid) return snap.term;
  try {
    return env.openDB<number, number>('raft.terms', {}).get(zxid);
  } catch {
    return undefined; // a standalone node's copy has no log
  }
}

function openSnapshot(file: string): RootDatabase {
  return open({ path: file, readOnly: true, noSubdir: true, maxDbs: 16, compression: false });
}

/** Opens a snapshot file read-only and reports what it holds; throws when it is not a zkgate store. */
export function inspectSnapshot(file: string): SnapshotInfo {
  const env = openSnapshot(file);
  try {
    const meta = env.openDB<number, string>('meta', {});
    const nodes = env.openDB<NodeRecord, Buffer>('nodes', NODES_DB_OPTIONS);
    if (!nodes.get(nodeKey('/'))) throw new Error(`${file} holds no znode tree (no root node)`);
    const zxid = meta.get('lastZxid') ?? 0;
    const term = termIn(env, meta, zxid);
    return term === undefined ? { zxid, znodes: meta.get('znodes') ?? 0 } : { zxid, znodes: meta.get('znodes') ?? 0, term };
  } finally {
    void env.close();
  }
}

/** Replaces the tree, sessions and indexes of `store` (whose databases are `dbs`) with those of a snapshot file. */
export async function replaceTree(store: Store, dbs: TreeDbs, file: string, inFinalTxn: (zxid: number) => void, batchKeys: number): Promise<{ zxid: number }> {
  // The copy is opened before anything here is touched: a missing or unreadable file must fail with the tree intact.
  const src = openSnapshot(file);
  store.readCache.suspend();
  try {
    await store.writeDurably(() => store.metaPut(INSTALL_MARK, 1));
    await wipeTree(store, dbs, batchKeys);
    for (const [name, dbOptions] of REPLACED_DBS) {
      const from = src.openDB<unknown, string | Buffer>(name, dbOptions);
      const to = dbs[name] as Database<unknown, string | Buffer>;
      let chunk: { key: string | Buffer; value: unknown }[] = [];
      const flush = async () => {
        const c = chunk;
        chunk = [];
        await store.writeDurably(() => {
          for (const e of c) void to.put(e.key, e.value);
        });
      };
      for (const e of from.getRange({ snapshot: true })) {
        chunk.push({ key: e.key, value: e.value });
        if (chunk.length >= batchKeys) await flush();
      }
      if (chunk.length > 0) await flush();
    }
    const meta = src.openDB<number, string>('meta', {});
    const zxid = meta.get('lastZxid') ?? 0;
    const counters = { znodes: meta.get('znodes') ?? 0, dataBytes: meta.get('dataBytes') ?? 0, ephemerals: meta.get('ephemerals') ?? 0 };
    await store.writeDurably(() => {
      for (const [k, v] of Object.entries(counters)) dbs.meta.put(k, v);
      dbs.meta.put('lastZxid', zxid);
      inFinalTxn(zxid);
      dbs.meta.remove(INSTALL_MARK);
    });
    return { zxid };
  } finally {
    store.readCache.resume();
    await src.close();
  }
}

/** Empties the tree, sessions, indexes and counters, in bounded batches. */
export async function wipeTree(store: Store, dbs: TreeDbs, batchKeys: number): Promise<void> {
  store.readCache.suspend();
  try {
    for (const [name] of REPLACED_DBS) {
      const db = dbs[name] as Database<unknown, string | Buffer>;
      for (;;) {
        const keys = [...db.getKeys({ limit: batchKeys, snapshot: false })];
        if (keys.length === 0) break;
        await store.writeDurably(() => {
          for (const k of keys) void db.remove(k);
        });
      }
    }
    await store.writeDurably(() => {
      for (const k of ['znodes', 'dataBytes', 'ephemerals', 'lastZxid']) dbs.meta.remove(k);
    });
  } finally {
    store.readCache.resume();
  }
}
