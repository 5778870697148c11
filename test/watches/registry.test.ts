// The watch table against a plain model (a set of watcher/path/kind triples): random adds, removes, drops and
// fires over a few paths and watchers leave both agreeing on every query, whichever way a path's watchers are held.
import t from 'tap';
import fc from 'fast-check';
import { WatchRegistry, WATCH_KINDS, kindsOf, type WatchKind } from '../../server/watches/registry.js';
import type { WatchEventType } from '../../server/tree/types.js';

const PATHS = ['/', '/a', '/a/b', '/a/b/c', '/d'];
const WATCHERS = ['w0', 'w1', 'w2'];
const EVENTS: WatchEventType[] = ['NodeCreated', 'NodeDataChanged', 'NodeDeleted', 'NodeChildrenChanged'];
/** Kinds an event fires on the path itself, and the one-shot kinds it spends (ZooKeeper's two tables). */
const EXACT: Record<WatchEventType, { fires: WatchKind[]; spends: WatchKind[] }> = {
  NodeCreated: { fires: ['data', 'exists', 'persistent', 'persistentRecursive'], spends: ['data', 'exists'] },
  NodeDataChanged: { fires: ['data', 'exists', 'persistent', 'persistentRecursive'], spends: ['data', 'exists'] },
  NodeDeleted: { fires: [...WATCH_KINDS], spends: ['data', 'exists', 'children'] },
  NodeChildrenChanged: { fires: ['children', 'persistent'], spends: ['children'] },
};
const key = (w: string, p: string, k: WatchKind) => `${w} ${p} ${k}`;

const op = fc.oneof(
  fc.record({ t: fc.constant('add' as const), w: fc.constantFrom(...WATCHERS), p: fc.constantFrom(...PATHS), k: fc.constantFrom(...WATCH_KINDS) }),
  fc.record({ t: fc.constant('remove' as const), w: fc.constantFrom(...WATCHERS), p: fc.constantFrom(...PATHS), k: fc.constantFrom(...WATCH_KINDS) }),
  fc.record({ t: fc.constant('drop' as const), w: fc.constantFrom(...WATCHERS) }),
  fc.record({ t: fc.constant('fire' as const), e: fc.constantFrom(...EVENTS), p: fc.constantFrom(...PATHS) }),
);

t.test('registry matches the triple-set model under random adds, removes, drops and fires', async (t) => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const reg = new WatchRegistry<string>();
      const model = new Set<string>();
      for (const o of ops) {
        if (o.t === 'add') {
          const isNew = !model.has(key(o.w, o.p, o.k));
          model.add(key(o.w, o.p, o.k));
          if (reg.add(o.w, o.p, o.k) !== isNew) return false;
        } else if (o.t === 'remove') {
          if (reg.remove(o.w, o.p, o.k) !== model.delete(key(o.w, o.p, o.k))) return false;
        } else if (o.t === 'drop') {
          reg.removeAll(o.w);
          for (const k of [...model]) if (k.startsWith(o.w + ' ')) model.delete(k);
        } else {
          const want = new Set<string>();
          for (const w of WATCHERS) {
            for (const k of EXACT[o.e].fires) if (model.has(key(w, o.p, k))) want.add(w);
            for (const k of EXACT[o.e].spends) model.delete(key(w, o.p, k));
            if (o.e === 'NodeChildrenChanged') continue;
            for (let p = o.p; p !== '/'; ) {
              p = p.lastIndexOf('/') === 0 ? '/' : p.slice(0, p.lastIndexOf('/'));
              if (model.has(key(w, p, 'persistentRecursive'))) want.add(w);
            }
          }
          const got = [...reg.fire(o.e, o.p)];
          if (new Set(got).size !== got.length) return false;
          if (got.sort().join() !== [...want].sort().join()) return false;
        }
        if (reg.count !== model.size) return false;
        for (const p of PATHS) {
          const viaPath = [...reg.watchersOf(p)].flatMap(([w, bits]) => kindsOf(bits).map((k) => key(w, p, k)));
          if (viaPath.sort().join() !== [...model].filter((k) => k.split(' ')[1] === p).sort().join()) return false;
        }
        for (const w of WATCHERS) {
          const viaWatcher = [...reg.watchesOf(w)].flatMap(([p, bits]) => kindsOf(bits).map((k) => key(w, p, k)));
          if (viaWatcher.sort().join() !== [...model].filter((k) => k.startsWith(w + ' ')).sort().join()) return false;
        }
      }
      return reg.pathCount === new Set([...model].map((k) => k.split(' ')[1])).size;
    }),
    { numRuns: 300 },
  );
  t.pass('300 random sequences agreed with the model');
});
