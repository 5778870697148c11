// What a node makes of its data dir before it serves: a standalone start refuses a member's unrecovered log, a member
// applies and removes a standalone log left behind, and an empty store gets the tree ZooKeeper starts with.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { replayWal } from './pipeline.js';
import type { Store } from '../storage/store.js';
import { Wal } from '../storage/wal.js';
import { consensusWalDir } from '../storage/ready-codec.js';
import { READ_ACL_UNSAFE, OPEN_ACL_UNSAFE } from './tree/acl.js';
import type { Acl, NodeRecord, Txn } from './tree/types.js';

/** Where a standalone node keeps its write-ahead log. */
export function walDir(dataDir: string): string {
  return join(dataDir, 'wal');
}

/**
 * A standalone start of a data dir whose ensemble member did not stop cleanly: its consensus log holds entries LMDB
 * may lack, which only the consensus engine puts back. Refused, rather than serving a tree without them.
 */
export function refuseMemberLog(dataDir: string): void {
  const dir = consensusWalDir(dataDir);
  if (!existsSync(dir) || !readdirSync(dir).some((n) => n.endsWith('.wal'))) return;
  throw new Error(
    `${dir} holds the consensus log of an ensemble member that did not stop cleanly; start this data dir as that member (with its server.N lines) so that it recovers, stop it, then start it standalone`,
  );
}

/**
 * A data dir that ran standalone and now joins an ensemble: what its log holds beyond the store is applied and
 * flushed, then the log is removed.
 */
export async function retireWal(store: Store, dataDir: string, log: Logger): Promise<void> {
  const dir = walDir(dataDir);
  if (!existsSync(dir)) return;
  const wal = Wal.open<Txn>(dir);
  const n = await replayWal(store, wal);
  await wal.close();
  rmSync(dir, { recursive: true, force: true });
  log.info({ replayed: n, zxid: store.lastZxid() }, 'standalone write-ahead log applied and removed');
}

/** The fresh tree ZooKeeper starts with: /, /zookeeper, /zookeeper/quota, /zookeeper/config (read-only). */
export async function initTree(store: Store): Promise<void> {
  const rec = (acl: Acl[], numChildren: number): NodeRecord => ({
    data: new Uint8Array(0),
    czxid: 0,
    mzxid: 0,
    pzxid: 0,
    ctime: 0,
    mtime: 0,
    version: 0,
    // ZooKeeper builds these without counting child creates, so a fresh root reports cversion 2×0 − 1 = -1.
    cversion: 0,
    aversion: 0,
    owner: '',
    kind: 'persistent',
    ttlMs: 0,
    numChildren,
    acl,
  });
  await store.writeDurably((v) => {
    v.putNode('/', rec(OPEN_ACL_UNSAFE, 1));
    v.putNode('/zookeeper', rec(READ_ACL_UNSAFE, 2));
    v.putNode('/zookeeper/quota', rec(READ_ACL_UNSAFE, 0));
    v.putNode('/zookeeper/config', rec(READ_ACL_UNSAFE, 0));
    v.bump('znodes', 4);
  });
}
