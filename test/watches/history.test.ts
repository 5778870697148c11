// The change history (server/watches/history.ts) against a model: a plain list of every change since the last reset,
// of which the newest maxEvents are kept, the floor rising to each evicted change's zxid. After any sequence of
// records (zxids in order, repeats allowed, paths nested; a ring of 70 so that one path's list is compacted after 64
// evictions) and resets, every query answers as the model does: the
// changes to a path or below a root after a zxid, in order, with their fields (below every root at once too, as a
// resume batch asks); covers, length and floorZxid.
import t from 'tap';
import fc from 'fast-check';
import { ChangeHistory, type Change } from '../../server/watches/history.js';
import type { Acl, WatchEventType } from '../../server/tree/types.js';
import { isWithin } from '../../server/tree/paths.js';

const PATHS = ['/', '/a', '/a/b', '/a/b/c', '/ab', '/c'];
const TYPES: WatchEventType[] = ['NodeCreated', 'NodeDeleted', 'NodeDataChanged', 'NodeChildrenChanged'];
const ACLS: Acl[][] = [[{ perms: 31, scheme: 'world', id: 'anyone' }], [{ perms: 1, scheme: 'digest', id: 'u:x' }]];

class Model {
  kept: Change[] = [];
  floorZxid: number;
  constructor(
    readonly max: number,
    start: number,
  ) {
    this.floorZxid = start;
  }
  record(c: Change): void {
    if (this.max === 0) {
      this.floorZxid = c.zxid;
      return;
    }
    this.kept.push(c);
    if (this.kept.length > this.max) this.floorZxid = Math.max(this.floorZxid, (this.kept.shift() as Change).zxid);
  }
  reset(floor: number): void {
    this.kept = [];
    this.floorZxid = floor;
  }
}

type Cmd = { k: 'record'; step: number; type: number; path: number; acl: number } | { k: 'reset' } | { k: 'query'; path: number; back: number };

/** Commands over the first `paths` of PATHS, `resetWeight` 0 for none, queries reaching up to `maxBack` zxids back. */
const cmd = (paths: number, resetWeight: number, maxBack: number): fc.Arbitrary<Cmd> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ k: fc.constant('record' as const), step: fc.integer({ min: 0, max: 2 }), type: fc.nat(TYPES.length - 1), path: fc.nat(paths - 1), acl: fc.nat(1) }) },
    { weight: resetWeight, arbitrary: fc.constant({ k: 'reset' as const }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('query' as const), path: fc.nat(paths - 1), back: fc.integer({ min: 0, max: maxBack }) }) },
  );

const cases: [string, fc.Arbitrary<number>, fc.Arbitrary<Cmd[]>, number][] = [
  ['small rings, every path', fc.constantFrom(0, 1, 2, 3, 5, 8), fc.array(cmd(PATHS.length, 1, 12), { maxLength: 120 }), 500],
  // Two paths, long runs, no reset: a path's list passes 64 evictions with changes still live and is compacted;
  // queries reach back past the ring.
  ['a ring of 70, two paths', fc.constant(70), fc.array(cmd(2, 0, 150), { minLength: 300, maxLength: 900 }), 100],
];

for (const [name, maxes, cmdLists, numRuns] of cases) t.test(`answers every query as the model does, after any records and resets: ${name}`, async (t) => {
  let checked = 0;
  fc.assert(
    fc.property(maxes, cmdLists, (max, cmds) => {
      const h = new ChangeHistory(max, 0);
      const m = new Model(max, 0);
      let zxid = 0;
      for (const c of cmds) {
        if (c.k === 'record') {
          zxid += c.step;
          const ch: Change = { zxid, type: TYPES[c.type] as WatchEventType, path: PATHS[c.path] as string, acl: ACLS[c.acl] as Acl[] };
          h.record({ ...ch });
          m.record(ch);
        } else if (c.k === 'reset') {
          h.reset(zxid);
          m.reset(zxid);
        } else {
          const p = PATHS[c.path] as string;
          const since = zxid - c.back;
          if (JSON.stringify(h.forPath(p, since)) !== JSON.stringify(m.kept.filter((x) => x.path === p && x.zxid > since))) return false;
          if (JSON.stringify(h.forSubtree(p, since)) !== JSON.stringify(m.kept.filter((x) => x.zxid > since && isWithin(x.path, p)))) return false;
          // The batched scan of a resume: for every root at once, each root's list as forSubtree's.
          const all = h.forSubtrees(new Set(PATHS), since);
          for (const r of PATHS) {
            if (JSON.stringify(all.get(r) ?? []) !== JSON.stringify(m.kept.filter((x) => x.zxid > since && isWithin(x.path, r)))) return false;
          }
          if (h.covers(since) !== since >= m.floorZxid) return false;
          checked++;
        }
        if (h.length !== m.kept.length || h.floorZxid !== m.floorZxid) return false;
      }
      return true;
    }),
    { numRuns },
  );
  t.ok(checked > 0, `${checked} queries compared`);
});
