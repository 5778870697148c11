// The reply oracle: what API.md §5–6, docs/watches.md and the OpenAPI frame schemas say each frame may get back,
// written out independently of the server's code so that a server bug cannot also be the expectation.
import { LIMITS, LOW_ZXID } from './server.js';

// ---- the contract, written out independently of the server's code ----

export const KINDS = ['data', 'exists', 'children', 'persistent', 'persistentRecursive'] as const;
const OPS = new Set(['watch', 'resume', 'unwatch', 'session', 'ping']);
/** §6, plus NoWatcher (-121, docs/watches.md). SystemError is in neither. */
export const ERROR_CODES: Record<string, number> = {
  BadArguments: -8,
  InvalidACL: -114,
  NoChildrenForEphemerals: -108,
  MarshallingError: -5,
  AuthFailed: -115,
  NoAuth: -102,
  NoNode: -101,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  BadVersion: -103,
  Unimplemented: -6,
  ConnectionLoss: -4,
  NoWatcher: -121,
};
/** §6's HTTP statuses and the names each may carry (426: GET /v1/watch without the upgrade, docs/watches.md). */
export const STATUS_NAMES: Record<number, string[]> = {
  400: ['BadArguments', 'InvalidACL', 'NoChildrenForEphemerals', 'MarshallingError'],
  401: ['AuthFailed'],
  403: ['NoAuth'],
  404: ['NoNode', 'Unimplemented'],
  405: ['Unimplemented'],
  409: ['NodeExists', 'NotEmpty'],
  410: ['SessionExpired'],
  412: ['BadVersion'],
  413: ['BadArguments'],
  426: ['BadArguments'],
  503: ['ConnectionLoss'],
};
export const STAT_FIELDS = ['czxid', 'mzxid', 'pzxid', 'ctime', 'mtime', 'version', 'cversion', 'aversion', 'ephemeralOwner', 'dataLength', 'numChildren'];
export const EVENT_TYPES = new Set(['NodeCreated', 'NodeDeleted', 'NodeDataChanged', 'NodeChildrenChanged']);

/** API.md §2 and README (1900 UTF-8 bytes): ZooKeeper's path rules. */
export function pathProblem(p: string): string | undefined {
  if (p === '/') return undefined;
  if (!p.startsWith('/')) return 'not absolute';
  if (p.endsWith('/')) return 'trailing /';
  if (Buffer.byteLength(p) > 1900) return 'over 1900 bytes';
  for (const seg of p.slice(1).split('/')) {
    if (seg === '') return 'empty segment';
    if (seg === '.' || seg === '..') return 'relative';
  }
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) return 'reserved character';
  }
  return undefined;
}

/** What `id` a reply must carry: the frame's when a string or an integer, else null. */
function echoedId(v: unknown): unknown {
  return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)) ? v : null;
}

export const isZxid = (v: unknown): v is string => typeof v === 'string' && /^\d+$/.test(v);
export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const extraKeys = (o: Record<string, unknown>, allowed: string[]) => Object.keys(o).filter((k) => !allowed.includes(k));

/** The OpenAPI frame schemas (openapi/watch-schemas.ts, as documented): the first violation, if any. */
function idProblem(o: Record<string, unknown>): string | undefined {
  if (!('id' in o)) return undefined;
  const id = o.id;
  if (typeof id === 'string') return id.length <= 256 ? undefined : 'id longer than 256';
  return typeof id === 'number' && Number.isInteger(id) ? undefined : 'id neither string nor integer';
}
function sinceProblem(v: unknown): string | undefined {
  if (typeof v === 'string') return /^[0-9]+$/.test(v) ? undefined : 'sinceZxid string not decimal';
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? undefined : 'sinceZxid neither decimal string nor integer >= 0';
}
const kindOk = (v: unknown) => typeof v === 'string' && (KINDS as readonly string[]).includes(v);
const encodingOk = (v: unknown) => v === undefined || v === 'utf8' || v === 'base64';

function schemaProblem(o: Record<string, unknown>): string | undefined {
  const id = idProblem(o);
  if (id) return id;
  switch (o.op) {
    case 'watch': {
      const extra = extraKeys(o, ['id', 'op', 'path', 'kind', 'sinceZxid', 'encoding']);
      if (extra.length) return `extra ${extra[0]}`;
      if (typeof o.path !== 'string') return 'path';
      if (!kindOk(o.kind)) return 'kind';
      if ('sinceZxid' in o && sinceProblem(o.sinceZxid)) return sinceProblem(o.sinceZxid);
      return 'encoding' in o && !encodingOk(o.encoding) ? 'encoding' : undefined;
    }
    case 'resume': {
      const extra = extraKeys(o, ['id', 'op', 'sinceZxid', 'watches', 'more']);
      if (extra.length) return `extra ${extra[0]}`;
      if (!('sinceZxid' in o)) return 'no sinceZxid';
      if (sinceProblem(o.sinceZxid)) return sinceProblem(o.sinceZxid);
      if (!Array.isArray(o.watches) || o.watches.length < 1 || o.watches.length > 10000) return 'watches';
      for (const w of o.watches) {
        if (!isPlainObject(w) || extraKeys(w, ['path', 'kind', 'encoding']).length) return 'watch item';
        if (typeof w.path !== 'string' || !kindOk(w.kind) || ('encoding' in w && !encodingOk(w.encoding))) return 'watch item';
      }
      return 'more' in o && typeof o.more !== 'boolean' ? 'more' : undefined;
    }
    case 'unwatch': {
      const extra = extraKeys(o, ['id', 'op', 'path', 'kind']);
      if (extra.length) return `extra ${extra[0]}`;
      return typeof o.path !== 'string' ? 'path' : kindOk(o.kind) ? undefined : 'kind';
    }
    case 'session': {
      const extra = extraKeys(o, ['id', 'op', 'sessionId']);
      if (extra.length) return `extra ${extra[0]}`;
      return typeof o.sessionId === 'string' && o.sessionId.length <= 64 ? undefined : 'sessionId';
    }
    case 'ping': {
      const extra = extraKeys(o, ['id', 'op']);
      return extra.length ? `extra ${extra[0]}` : undefined;
    }
  }
  return undefined;
}

/** A session id as §4 and session-id.ts define it (any case, leading zeros, surrounding blanks): canonical, or undefined. */
function canonicalSession(raw: string): string | undefined {
  const m = /^0x([0-9a-f]{1,16})$/.exec(raw.trim().toLowerCase());
  return m ? '0x' + (m[1] as string).replace(/^0+(?=.)/, '') : undefined;
}

// ---- one connection's frames and what each must get back ----

/** An outcome a reply may have. */
export type Outcome =
  | { ok: 'watch'; kind: string; base64: boolean }
  | { ok: 'resume'; results: Outcome[][] }
  | { ok: 'held'; held: number }
  | { ok: 'ping' }
  | { ok: 'unwatch' }
  | { ok: 'session'; sessionId: string }
  | { error: string; message?: RegExp };

export interface Expectation {
  /** The frame, shortened, for failure messages. */
  what: string;
  id: unknown;
  outcomes: Outcome[];
}

export interface RunSessions {
  /** Live when the run started (may close or expire during it). */
  live: string[];
  /** Closed before the run. */
  closed: string;
}

/** What the model knows of one connection, to say what each frame may get. */
export class ConnModel {
  /** Every (kind, path) a watch or resume was sent for with a valid path: an upper bound of what the connection holds. */
  readonly attempted = new Set<string>();
  readonly recursiveRoots = new Set<string>();
  readonly paths = new Set<string>();
  /** Resume frames held (more:true), exactly as the server must hold them. */
  held: { since: number; count: number; bytes: number } | null = null;
  /** A session frame got (or may get) ok. */
  mayBeBound = false;

  constructor(readonly sessions: RunSessions) {}

  private watchOutcomes(path: unknown, kind: string, since: number | undefined, base64: boolean): Outcome[] {
    if (typeof path !== 'string' || pathProblem(path)) return [{ error: 'BadArguments' }];
    const key = `${kind} ${path}`;
    const capReached = [...this.attempted].filter((k) => k !== key).length >= LIMITS.wsMaxWatchesPerConnection;
    this.attempted.add(key);
    this.paths.add(path);
    if (kind === 'persistentRecursive') this.recursiveRoots.add(path);
    if (path === '/secret') return [{ error: 'NoAuth' }];
    const out: Outcome[] = [{ ok: 'watch', kind, base64 }];
    if ((kind === 'data' || kind === 'children') && since === undefined) {
      if (neverExists(path)) return [{ error: 'NoNode' }];
      if (!alwaysExists(path)) out.push({ error: 'NoNode' });
    }
    if (capReached) out.push({ error: 'BadArguments', message: /wsMaxWatchesPerConnection/ });
    return out;
  }

  /** Where a frame's sinceZxid leads before anything is read: an error, or the zxid. */
  private since(raw: unknown): { error: Outcome } | { since: number } {
    const z = Number(raw);
    if (!Number.isSafeInteger(z)) return { error: { error: 'BadArguments' } };
    if (z > LOW_ZXID) return { error: { error: 'ConnectionLoss' } };
    return { since: z };
  }

  /** The outcomes `text` (as the server receives it) may have, updating the model as the server must. */
  expect(text: string): Expectation {
    const what = text.length > 160 ? `${text.slice(0, 160)}…(${text.length} chars)` : text;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return { what, id: null, outcomes: [{ error: 'MarshallingError' }] };
    }
    if (!isPlainObject(msg)) return { what, id: null, outcomes: [{ error: 'MarshallingError' }] };
    const id = echoedId(msg.id);
    const one = (o: Outcome): Expectation => ({ what, id, outcomes: [o] });
    if (typeof msg.op !== 'string' || !OPS.has(msg.op)) return one({ error: 'Unimplemented' });
    if (schemaProblem(msg)) return one({ error: 'BadArguments' });
    switch (msg.op) {
      case 'ping':
        return one({ ok: 'ping' });
      case 'unwatch': {
        const path = msg.path as string;
        if (pathProblem(path)) return one({ error: 'BadArguments' });
        // data and exists are one watch to unwatch (ZooKeeper's WatcherType.Data).
        const kinds = msg.kind === 'data' || msg.kind === 'exists' ? ['data', 'exists'] : [String(msg.kind)];
        const maybe = kinds.some((k) => this.attempted.has(`${k} ${path}`));
        return { what, id, outcomes: maybe ? [{ ok: 'unwatch' }, { error: 'NoWatcher' }] : [{ error: 'NoWatcher' }] };
      }
      case 'session': {
        const raw = msg.sessionId as string;
        const sid = canonicalSession(raw);
        if (sid === undefined) return one({ error: 'BadArguments' });
        if (!this.sessions.live.includes(sid)) return one({ error: 'SessionExpired' });
        this.mayBeBound = true;
        return { what, id, outcomes: [{ ok: 'session', sessionId: sid }, { error: 'SessionExpired' }] };
      }
      case 'watch': {
        const path = msg.path as string;
        if (pathProblem(path)) return one({ error: 'BadArguments' });
        let since: number | undefined;
        if (msg.sinceZxid !== undefined) {
          const r = this.since(msg.sinceZxid);
          if ('error' in r) return one(r.error);
          since = r.since;
        }
        return { what, id, outcomes: this.watchOutcomes(path, msg.kind as string, since, msg.encoding === 'base64') };
      }
      case 'resume': {
        const watches = msg.watches as { path: string; kind: string; encoding?: string }[];
        const z = Number(msg.sinceZxid);
        if (!Number.isSafeInteger(z)) return one({ error: 'BadArguments' });
        if (this.held && this.held.since !== z) return one({ error: 'BadArguments', message: /sinceZxid/ });
        if (msg.more === true) {
          const count = (this.held?.count ?? 0) + watches.length;
          const bytes = (this.held?.bytes ?? 0) + Buffer.byteLength(text);
          if (count > LIMITS.wsMaxWatchesPerConnection) return one({ error: 'BadArguments', message: /wsMaxWatchesPerConnection/ });
          if (bytes > LIMITS.wsMaxResumeBytes) return one({ error: 'BadArguments', message: /wsMaxResumeBytes/ });
          this.held = { since: z, count, bytes };
          this.heldWatches.push(...watches);
          return one({ ok: 'held', held: count });
        }
        const r = this.since(msg.sinceZxid);
        if ('error' in r) return one(r.error);
        const all = [...(this.heldWatches ?? []), ...watches];
        this.held = null;
        this.heldWatches = [];
        const results = all.map((w) => this.watchOutcomes(w.path, w.kind, r.since, w.encoding === 'base64'));
        return one({ ok: 'resume', results });
      }
    }
    throw new Error(`unreachable op ${String(msg.op)}`);
  }

  /** The watches of held frames, for the results of the frame that completes them. */
  heldWatches: { path: string; kind: string; encoding?: string }[] = [];
}

/** Paths the runs' writer creates and deletes (and their subtrees); everything else under /f never exists. */
const WRITER_PATHS = ['/f/a', '/f/b', '/f/a/c', '/f/b/d', '/f/ü', '/f/q'];
const ALWAYS = new Set(['/', '/f', '/big', '/bin', '/zookeeper', '/zookeeper/config', '/secret', '/secret/c']);
const alwaysExists = (p: string) => ALWAYS.has(p);
const neverExists = (p: string) => !ALWAYS.has(p) && !WRITER_PATHS.some((w) => p === w || p.startsWith(w + '/'));
