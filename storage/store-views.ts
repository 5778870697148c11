// The two TreeViews the store hands to apply: one writing into an LMDB write transaction, one writing into the
// pending layer (WAL-backed stores). Each keeps the read cache from serving an answer its writes outdate.
import type { GroupWrites, PendingLayer } from './pending.js';
import { ephKey, nodeKey, type TreeDbs } from './schema.js';
import type { Store } from './store.js';
import type { Counter, TreeView } from './view.js';

/**
 * Writes into the current LMDB write transaction. Reads see its puts only once LMDB commits; until then the
 * read cache keeps the paths out, and they are collected in `touched` to be let back in then.
 */
export function lmdbView(store: Store, dbs: TreeDbs, touched: string[]): TreeView {
  const { nodes, sessions, ephemerals, special, meta } = dbs;
  const cache = store.readCache;
  return {
    getNode: (p) => nodes.get(nodeKey(p)),
    putNode: (p, rec) => {
      cache.writeBegins(p);
      touched.push(p);
      void nodes.put(nodeKey(p), rec);
    },
    removeNode: (p) => {
      cache.writeBegins(p);
      touched.push(p);
      void nodes.remove(nodeKey(p));
    },
    childNames: (p) => store.childNames(p),
    getSession: (id) => sessions.get(id),
    putSession: (rec) => void sessions.put(rec.id, rec),
    removeSession: (id) => void sessions.remove(id),
    sessionEphemerals: (id) => store.sessionEphemerals(id),
    addEphemeral: (id, p) => void ephemerals.put(ephKey(id, p), 1),
    removeEphemeral: (id, p) => void ephemerals.remove(ephKey(id, p)),
    setSpecial: (p, kind) => void (kind ? special.put(p, kind) : special.remove(p)),
    bump: (c: Counter, d: number) => void meta.put(c, (meta.get(c) ?? 0) + d),
  };
}

/** Writes into group `g` of the pending layer, which is what reads see: a cached answer is outdated at once. */
export function pendingView(store: Store, pending: PendingLayer, g: GroupWrites): TreeView {
  const cache = store.readCache;
  return {
    getNode: (p) => store.getNode(p),
    putNode: (p, rec) => {
      cache.invalidate(p);
      pending.putNode(g, p, rec);
    },
    removeNode: (p) => {
      cache.invalidate(p);
      pending.putNode(g, p, null);
    },
    childNames: (p) => store.childNames(p),
    getSession: (id) => store.getSession(id),
    putSession: (rec) => pending.putSession(g, rec.id, rec),
    removeSession: (id) => pending.putSession(g, id, null),
    sessionEphemerals: (id) => store.sessionEphemerals(id),
    addEphemeral: (id, p) => pending.setEphemeral(g, id, p, true),
    removeEphemeral: (id, p) => pending.setEphemeral(g, id, p, false),
    setSpecial: (p, kind) => pending.setSpecial(g, p, kind),
    bump: (c, d) => pending.setCounter(g, c, store.counter(c) + d),
  };
}
