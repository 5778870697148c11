// How the tree lies in the LMDB environment: the file, the databases with their key and value encodings, and
// the keys that order them. A snapshot file is a copy of the environment, so it is read through the same layout.
import { join } from 'node:path';
import type { Database, DatabaseOptions, RootDatabase } from 'lmdb';
import type { NodeKind, NodeRecord, SessionRecord } from './records.js';
import { NODES_DB_OPTIONS } from './node-codec.js';

const SEP = 0;

/** The file a store in `dataDir` lives in, where a restore puts a snapshot. */
export function storeFile(dataDir: string): string {
  return join(dataDir, 'zkgate.mdb');
}

/** Key of a znode: parent path, NUL, name — so the children of a node are one ordered key range. */
export function nodeKey(path: string): Buffer {
  if (path === '/') return Buffer.from([SEP]);
  const i = path.lastIndexOf('/');
  const parent = i === 0 ? '/' : path.slice(0, i);
  return Buffer.concat([Buffer.from(parent, 'utf8'), Buffer.from([SEP]), Buffer.from(path.slice(i + 1), 'utf8')]);
}

/** Key of one of a session's ephemerals: session id, NUL, path — so a session's are one ordered key range. */
export function ephKey(sessionId: string, path: string): Buffer {
  return Buffer.concat([Buffer.from(sessionId, 'utf8'), Buffer.from([SEP]), Buffer.from(path, 'utf8')]);
}

/**
 * The keys below `prefix` (a node's children, a session's ephemerals), as what follows the NUL in each, in key order;
 * with `after`, only those that sort after it. A name holds no NUL, so `after` + NUL is the first key past `after`.
 */
export function namesBelow(db: Database<unknown, Buffer>, prefix: string, limit?: number, after?: string): string[] {
  const p = Buffer.from(prefix, 'utf8');
  const from = p.length + 1;
  const start = Buffer.concat(after === undefined ? [p, Buffer.from([SEP])] : [p, Buffer.from([SEP]), Buffer.from(after, 'utf8'), Buffer.from([0])]);
  const end = Buffer.concat([p, Buffer.from([SEP + 1])]);
  const out: string[] = [];
  for (const key of db.getKeys({ start, end, limit, snapshot: false })) {
    out.push((key as Buffer).subarray(from).toString('utf8'));
  }
  return out;
}

/**
 * The databases holding the tree and its indexes. `meta` holds the znode counters and the last applied zxid
 * under those names (and whatever else others keep there: the consensus log's state, the install mark).
 */
export interface TreeDbs {
  nodes: Database<NodeRecord, Buffer>;
  sessions: Database<SessionRecord, string>;
  ephemerals: Database<number, Buffer>;
  special: Database<NodeKind, string>;
  meta: Database<number, string>;
}

/** What a snapshot install replaces key by key (meta aside), with the encodings they are opened with. */
export const REPLACED_DBS: readonly (readonly [name: Exclude<keyof TreeDbs, 'meta'>, options: DatabaseOptions])[] = [
  ['nodes', NODES_DB_OPTIONS],
  ['sessions', {}],
  ['ephemerals', { keyEncoding: 'binary' }],
  ['special', {}],
];

/** Opened from REPLACED_DBS, so a store's databases and a snapshot file's are read with the same encodings. */
export function openTreeDbs(env: RootDatabase): TreeDbs {
  const dbs = {} as Record<string, unknown>;
  for (const [name, options] of REPLACED_DBS) dbs[name] = env.openDB(name, options);
  dbs.meta = env.openDB<number, string>('meta', {});
  return dbs as unknown as TreeDbs;
}
