// Checks of what a connection received against the oracle: each reply's shape, and the invariants over the whole
// connection (order, pushed frames, closes), returned as problems so that one run reports all of them at once.
import { ERROR_CODES, EVENT_TYPES, STAT_FIELDS, extraKeys, isPlainObject, isZxid, pathProblem, type ConnModel, type Expectation, type Outcome } from './oracle.js';
import type { Recorder } from './recorder.js';

// ---- checking a reply ----

function statProblem(st: unknown, zxid: bigint): string | undefined {
  if (!isPlainObject(st)) return 'stat is not an object';
  const keys = Object.keys(st).sort();
  if (keys.join() !== [...STAT_FIELDS].sort().join()) return `stat fields ${keys.join()}`;
  for (const k of ['czxid', 'mzxid', 'pzxid']) {
    if (!isZxid(st[k])) return `stat.${k} is not a decimal zxid`;
    if (BigInt(st[k] as string) > zxid) return `stat.${k} ${String(st[k])} is after the reply's zxid ${zxid}`;
  }
  for (const k of ['ctime', 'mtime', 'version', 'cversion', 'aversion', 'dataLength', 'numChildren']) {
    if (!Number.isInteger(st[k])) return `stat.${k} is not an integer`;
  }
  if (typeof st.ephemeralOwner !== 'string' || !/^0x[0-9a-f]+$/.test(st.ephemeralOwner)) return 'stat.ephemeralOwner';
  return undefined;
}

function watchReplyProblem(r: Record<string, unknown>, kind: string, base64: boolean, withId: boolean): string | undefined {
  const allowed = [...(withId ? ['id'] : []), 'ok', 'zxid', 'stat', 'data', 'encoding', 'children'];
  const extra = extraKeys(r, allowed);
  if (extra.length) return `unexpected field ${extra[0]}`;
  if (!isZxid(r.zxid)) return 'zxid';
  const zxid = BigInt(r.zxid);
  if (r.stat === null) {
    if ('data' in r || 'encoding' in r || 'children' in r) return 'data or children for a missing node';
    return undefined;
  }
  const sp = statProblem(r.stat, zxid);
  if (sp) return sp;
  const st = r.stat as Record<string, number>;
  const wantData = kind !== 'children';
  const wantChildren = kind === 'children' || kind === 'persistent' || kind === 'persistentRecursive';
  if (wantData !== ('data' in r) || wantData !== ('encoding' in r)) return `data/encoding ${wantData ? 'missing' : 'present'} for ${kind}`;
  if (wantData) {
    if (typeof r.data !== 'string') return 'data';
    if (r.encoding !== 'utf8' && r.encoding !== 'base64') return 'encoding';
    if (base64 && r.encoding !== 'base64') return 'encoding base64 was asked';
    const len = r.encoding === 'base64' ? Buffer.from(r.data, 'base64').length : Buffer.byteLength(r.data);
    if (len !== st.dataLength) return `data of ${len} bytes, stat.dataLength ${st.dataLength}`;
  }
  if (wantChildren !== ('children' in r)) return `children ${wantChildren ? 'missing' : 'present'} for ${kind}`;
  if (wantChildren) {
    if (!Array.isArray(r.children) || !r.children.every((c) => typeof c === 'string')) return 'children';
    if (r.children.length !== st.numChildren) return `${r.children.length} children, stat.numChildren ${st.numChildren}: not read at one zxid`;
  }
  return undefined;
}

/** Why `r` has none of the outcomes, or undefined when it has one. */
export function outcomeProblem(r: Record<string, unknown>, outcomes: Outcome[], withId: boolean): string | undefined {
  const problems: string[] = [];
  for (const o of outcomes) {
    const p = oneOutcomeProblem(r, o, withId);
    if (p === undefined) return undefined;
    problems.push(p);
  }
  return problems.join('; or ');
}

function oneOutcomeProblem(r: Record<string, unknown>, o: Outcome, withId: boolean): string | undefined {
  if ('error' in o) {
    if (r.ok !== false) return `expected ${o.error}`;
    const extra = extraKeys(r, [...(withId ? ['id'] : []), 'ok', 'error', 'code', 'message', 'path']);
    if (extra.length) return `error with unexpected field ${extra[0]}`;
    if (typeof r.error !== 'string' || !(r.error in ERROR_CODES)) return `error name ${String(r.error)} is not in API.md §6`;
    if (r.code !== ERROR_CODES[r.error]) return `error ${r.error} with code ${String(r.code)}, §6 says ${ERROR_CODES[r.error]}`;
    if (typeof r.message !== 'string' || r.message === '') return 'error without a message';
    if ('path' in r && typeof r.path !== 'string') return 'error path';
    if (r.error !== o.error) return `expected ${o.error}, got ${r.error} (${r.message})`;
    if (o.message && !o.message.test(r.message)) return `expected ${o.error} matching ${o.message}, got ${r.message}`;
    return undefined;
  }
  if (r.ok !== true) return `expected ok (${o.ok}), got ${String(r.error)}: ${String(r.message)}`;
  const exact = (keys: string[]) => {
    const want = [...(withId ? ['id'] : []), 'ok', ...keys].sort().join();
    const got = Object.keys(r).sort().join();
    return got === want ? undefined : `${o.ok} reply fields ${got}, expected ${want}`;
  };
  switch (o.ok) {
    case 'watch':
      return watchReplyProblem(r, o.kind, o.base64, withId);
    case 'ping':
      return exact(['zxid']) ?? (isZxid(r.zxid) ? undefined : 'ping zxid');
    case 'unwatch':
      return exact([]);
    case 'held':
      return exact(['held']) ?? (r.held === o.held ? undefined : `held ${String(r.held)}, expected ${o.held}`);
    case 'session':
      return exact(['sessionId', 'timeoutMs']) ?? (r.sessionId === o.sessionId && Number.isInteger(r.timeoutMs) ? undefined : `session reply ${JSON.stringify(r)}, expected ${o.sessionId}`);
    case 'resume': {
      const p = exact(['zxid', 'results']) ?? (isZxid(r.zxid) ? undefined : 'resume zxid');
      if (p) return p;
      const results = r.results;
      if (!Array.isArray(results) || results.length !== o.results.length) return `resume results ${JSON.stringify(results)?.slice(0, 200)}, expected ${o.results.length}`;
      for (let i = 0; i < results.length; i++) {
        const item = results[i] as unknown;
        if (!isPlainObject(item)) return `resume result ${i} is not an object`;
        const ip = outcomeProblem(item, o.results[i] as Outcome[], false);
        if (ip) return `resume result ${i}: ${ip}`;
      }
      return undefined;
    }
  }
}

/**
 * Codes a standalone server's own closes may use here (docs/watches.md; 1001 is for shutdown, 1012 and 1013 for ensemble
 * members), and the reason each must give. 1009 is checked apart: it must follow an oversized frame.
 */
export const SERVER_CLOSES: Record<number, RegExp> = {
  1000: /^session (closed|expired)$/,
  1008: /slow consumer|too many frames waiting/,
};

/**
 * Everything wrong with what `rec` received for the frames whose expectations are `exp`. `ended`: where an oversized
 * frame was sent (the index of the next expectation), and the code of a close the client started, if any.
 */
export function connectionProblems(rec: Recorder, exp: Expectation[], model: ConnModel, ended: { bigAt?: number; clientClose?: number }): string[] {
  const out: string[] = [];
  out.push(...rec.malformed.map((m) => `a frame that is not a JSON object: ${m}`));
  const replies = rec.replies;
  if (replies.length > exp.length) out.push(`${replies.length} replies to ${exp.length} frames`);
  // The server reads in order: once it has read an oversized frame it reads nothing after it.
  if (ended.bigAt !== undefined && replies.length > ended.bigAt) out.push(`${replies.length} replies, but frame ${ended.bigAt} was over wsMaxFrameBytes`);
  replies.forEach((r, i) => {
    const e = exp[i];
    if (!e) return;
    if (r.id !== e.id) out.push(`reply ${i} to ${e.what}: id ${JSON.stringify(r.id)}, expected ${JSON.stringify(e.id)} (${JSON.stringify(r).slice(0, 200)})`);
    const p = outcomeProblem(r, e.outcomes, true);
    if (p) out.push(`reply ${i} to ${e.what}: ${p} — got ${JSON.stringify(r).slice(0, 300)}`);
  });
  // Frames left unanswered: only behind a documented close.
  if (replies.length < exp.length) {
    const first = exp[replies.length] as Expectation;
    const c = rec.closed;
    if (!c) out.push(`no reply to ${first.what} and no close: a hang`);
    else if (c.code === 1009) {
      if (ended.bigAt === undefined) out.push('closed 1009 without an oversized frame');
    } else if (c.code === 1008 || c.code === 1000) {
      // The server's own documented closes.
    } else if (ended.clientClose === undefined) out.push(`no reply to ${first.what}; closed ${c.code} ${c.reason}`);
  }
  // Pushed frames: events in zxid order, none newer than a reply that follows it, none for a node it may not read.
  let last = 0n;
  let sessionPushed: string | undefined;
  const pendingEvents: bigint[] = [];
  for (const g of rec.got) {
    const f = g.f;
    if (sessionPushed) out.push(`a frame after the session ${sessionPushed} frame: ${JSON.stringify(f).slice(0, 200)}`);
    if (g.reply) {
      if (isZxid(f.zxid)) {
        const z = BigInt(f.zxid);
        for (const ez of pendingEvents) if (ez > z) out.push(`an event at zxid ${ez} arrived before a reply read at ${z}`);
        pendingEvents.length = 0;
      }
      continue;
    }
    if (f.type === 'event') {
      const extra = extraKeys(f, ['type', 'event', 'path', 'zxid']);
      if (extra.length || !EVENT_TYPES.has(f.event as string) || typeof f.path !== 'string' || pathProblem(f.path) || !isZxid(f.zxid)) {
        out.push(`malformed event ${JSON.stringify(f)}`);
        continue;
      }
      const z = BigInt(f.zxid);
      if (z < last) out.push(`event ${JSON.stringify(f)} after one at zxid ${last}: not in zxid order`);
      last = z > last ? z : last;
      pendingEvents.push(z);
      const p = f.path;
      if (p === '/secret' && f.event !== 'NodeDeleted') out.push(`an event for /secret, which this connection may not read: ${JSON.stringify(f)}`);
      const watched = model.paths.has(p) || [...model.recursiveRoots].some((r) => r === '/' || p.startsWith(r + '/'));
      if (!watched) out.push(`an event for a path never watched on this connection: ${JSON.stringify(f)}`);
    } else if (f.type === 'resync') {
      if (extraKeys(f, ['type', 'path']).length || typeof f.path !== 'string' || !model.paths.has(f.path)) out.push(`malformed resync ${JSON.stringify(f)}`);
    } else if (f.type === 'session') {
      if (extraKeys(f, ['type', 'state']).length || (f.state !== 'closed' && f.state !== 'expired')) out.push(`malformed session frame ${JSON.stringify(f)}`);
      else if (!model.mayBeBound) out.push(`a session frame on a connection never bound: ${JSON.stringify(f)}`);
      sessionPushed = String(f.state);
    } else out.push(`unknown pushed frame ${JSON.stringify(f)}`);
  }
  const c = rec.closed;
  if (c && ended.clientClose === undefined && c.code !== 1009) {
    const want = SERVER_CLOSES[c.code];
    if (!want) out.push(`closed with undocumented code ${c.code} (${c.reason})`);
    else if (!want.test(c.reason)) out.push(`closed ${c.code} with reason ${JSON.stringify(c.reason)}, documented ${want}`);
    if (c.code === 1000 && (!sessionPushed || c.reason !== `session ${sessionPushed}`)) out.push(`closed 1000 (${c.reason}) after session frame ${String(sessionPushed)}`);
  }
  if (sessionPushed && !(c && (c.code === 1000 || ended.clientClose !== undefined))) out.push(`session ${sessionPushed} frame without the 1000 close`);
  return out;
}
