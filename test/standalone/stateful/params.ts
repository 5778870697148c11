// The parameters commands are drawn with (targets, sessions, versions, data) and how each resolves against
// the model at run time, so that a shrunk sequence still names nodes that exist.
import fc from 'fast-check';
import { join, type ErrName, type Model, type MSession } from './zk-model.js';

// ---------------------------------------------------------------------------------------------------------------
// Command parameters and how they resolve against the model

/** Fixed paths (so that the same node is hit again and again), or one of the model's nodes, or a reserved one. */
export type Target = { k: 'fixed'; i: number } | { k: 'existing'; i: number } | { k: 'reserved'; i: number } | { k: 'prev'; i: number };
export const FIXED = ['/a', '/a/b', '/a/b/c', '/a/y', '/x', '/x/y', '/x/y/z', '/a/s-0000000000', '/a/s-0000000001', '/s-0000000000'];
const RESERVED = ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config'];
const NAMES = ['a', 'b', 'c', 'y', 's-', 's-', '', 's-0000000000'];

export const fixedArb = fc.nat(FIXED.length - 1).map((i): Target => ({ k: 'fixed', i }));
export const existingArb = fc.nat(999).map((i): Target => ({ k: 'existing', i }));
export const reservedArb = fc.nat(RESERVED.length - 1).map((i): Target => ({ k: 'reserved', i }));
export const targetArb: fc.Arbitrary<Target> = fc.oneof(
  { weight: 4, arbitrary: fixedArb },
  { weight: 8, arbitrary: existingArb },
  { weight: 1, arbitrary: reservedArb },
);

/** `prev`: the paths earlier ops of the same multi touched or created (so that ops of one multi meet each other). */
export function resolve(m: Model, t: Target, prev: string[] = []): string {
  if (t.k === 'fixed') return FIXED[t.i] as string;
  if (t.k === 'reserved') return RESERVED[t.i] as string;
  if (t.k === 'prev') return prev.length > 0 ? (prev[t.i % prev.length] as string) : (FIXED[t.i % FIXED.length] as string);
  const all = m.userPaths();
  return all.length === 0 ? (FIXED[t.i % FIXED.length] as string) : (all[t.i % all.length] as string);
}

export function showTarget(t: Target): string {
  return t.k === 'fixed' ? (FIXED[t.i] as string) : t.k === 'reserved' ? (RESERVED[t.i] as string) : `${t.k}#${t.i}`;
}

/** Where a create goes: a fixed path, or a name under a target. */
export type CreateAt = { k: 'path'; t: Target } | { k: 'under'; t: Target; name: string };
export const under = (t: fc.Arbitrary<Target>) => fc.record({ t, name: fc.constantFrom(...NAMES) }).map(({ t, name }): CreateAt => ({ k: 'under', t, name }));
export const createAtArb: fc.Arbitrary<CreateAt> = fc.oneof(
  { weight: 3, arbitrary: fixedArb.map((t): CreateAt => ({ k: 'path', t })) },
  { weight: 5, arbitrary: under(existingArb) },
  { weight: 2, arbitrary: under(fixedArb) },
  { weight: 1, arbitrary: under(reservedArb) },
);
export function resolveCreateAt(m: Model, c: CreateAt, prev: string[] = []): string {
  return c.k === 'path' ? resolve(m, c.t, prev) : join(resolve(m, c.t, prev), c.name);
}
export function showCreateAt(c: CreateAt): string {
  return c.k === 'path' ? showTarget(c.t) : `${showTarget(c.t)}/+${JSON.stringify(c.name)}`;
}

export const dataArb: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([]),
  fc.string({ maxLength: 6 }).map((s) => [...Buffer.from(s)]),
  fc.array(fc.nat(255), { maxLength: 6 }),
);

/** A session to send as ZK-Session: an index into the model's sessions, preferring open ones, and a spelling. */
export interface SessSel {
  i: number;
  anyState: boolean;
  spelling: 0 | 1 | 2;
}
export const sessArb: fc.Arbitrary<SessSel> = fc.record({ i: fc.nat(7), anyState: fc.constantFrom(false, false, false, true), spelling: fc.constantFrom<0 | 1 | 2>(0, 0, 1, 2) });

export function resolveSession(m: Model, s: SessSel | null): MSession | undefined {
  if (!s || m.sessions.length === 0) return undefined;
  const open = m.sessions.filter((x) => x.open);
  const pool = s.anyState || open.length === 0 ? m.sessions : open;
  return pool[s.i % pool.length];
}
/** Every spelling of the same number names the session (README "Sessions"). */
export function spell(id: string, spelling: 0 | 1 | 2): string {
  const hex = id.slice(2);
  return spelling === 0 ? id : spelling === 1 ? '0X' + hex.toUpperCase() : '0x' + hex.padStart(16, '0');
}
export function sessionHeader(sess: MSession | undefined, sel: SessSel | null): Record<string, string> {
  return sess && sel ? { 'zk-session': spell(sess.id, sel.spelling) } : {};
}

export type VerSel = 'none' | 'any' | 'current' | 'stale' | 'other';
export type VerForm = 'query' | 'ifmatch' | 'etag' | 'both';
export const verSelArb = fc.constantFrom<VerSel>('none', 'any', 'current', 'current', 'stale', 'other');
export const verFormArb = fc.constantFrom<VerForm>('query', 'ifmatch', 'etag', 'both');
const OTHER_VERSIONS = [-2, 7, 2147483647, -2147483648];

export function resolveVersion(n: { version: number } | undefined, sel: VerSel, salt: number): number | undefined {
  const cur = n?.version ?? 0;
  switch (sel) {
    case 'none':
      return undefined;
    case 'any':
      return -1;
    case 'current':
      return cur;
    case 'stale':
      return cur > 0 ? cur - 1 : cur + 1;
    case 'other':
      return OTHER_VERSIONS[salt % OTHER_VERSIONS.length];
  }
}

/** `?version=N`, `If-Match: N`, `If-Match: "N"` (the ETag as returned) or both agreeing. */
export function versionRequest(v: number | undefined, form: VerForm): { query: string[]; headers: Record<string, string> } {
  if (v === undefined) return { query: [], headers: {} };
  switch (form) {
    case 'query':
      return { query: [`version=${v}`], headers: {} };
    case 'ifmatch':
      return { query: [], headers: { 'if-match': String(v) } };
    case 'etag':
      return { query: [], headers: { 'if-match': `"${v}"` } };
    case 'both':
      return { query: [`version=${v}`], headers: { 'if-match': `"${v}"` } };
  }
}

export const contentTypeArb = fc.constantFrom<string | undefined>(undefined, 'application/octet-stream', 'text/plain', 'application/json');

/**
 * What a create's path alone earns before the state is consulted: the root is NodeExists (ZooKeeper: `/` exists), a
 * name ending in `/` BadArguments unless the create is sequential (PathUtils.validatePath(path + "1")).
 */
export function pathRefusal(path: string, seq: boolean): ErrName | undefined {
  if (seq) return undefined;
  if (path === '/') return 'NodeExists';
  if (path.endsWith('/')) return 'BadArguments';
  return undefined;
}

/** A session header naming a closed session: 410, nothing changes, no zxid (API.md §4). */
export function refusedForSession(sess: MSession | undefined): boolean {
  return sess !== undefined && !sess.open;
}
