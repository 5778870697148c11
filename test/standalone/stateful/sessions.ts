// The session commands (create, close, info, keepalive) and their mix: closing a session takes its
// ephemerals in the same transaction, which the model mirrors.
import fc from 'fast-check';
import { eq, expectError, keysOf, ok, readZxid, refusedUnlogged, show, tally, writeZxid } from './checks.js';
import { Cmd } from './cmd.js';
import { resolveSession, sessArb, spell, type SessSel } from './params.js';
import { MAX_SESSIONS, SESSION_TIMEOUT_MS, type Real } from './real.js';
import { byUtf8, removeNode, type Model, type MSession } from './zk-model.js';

// ---- sessions

export class NewSessionCmd extends Cmd {
  override check(m: Readonly<Model>): boolean {
    return m.sessions.length < MAX_SESSIONS;
  }
  describe(): string {
    return 'NewSession()';
  }
  async run(m: Model, r: Real): Promise<void> {
    this.sent = 'POST /v1/sessions';
    const ctx = this.ctx();
    const res = await r.http.call('POST', '/v1/sessions', { 'content-type': 'application/json' }, JSON.stringify({ timeoutMs: SESSION_TIMEOUT_MS }));
    tally(this, res);
    eq(ctx, 'status', res.status, 201, r);
    writeZxid(ctx, m, res, r, true);
    eq(ctx, 'body keys', keysOf(res.json), ['sessionId', 'timeoutMs'], r);
    eq(ctx, 'timeoutMs', res.json.timeoutMs, SESSION_TIMEOUT_MS, r);
    const id = String(res.json.sessionId);
    ok(ctx, `session id ${id} is 0x and lower-case hex without leading zeros`, /^0x[1-9a-f][0-9a-f]*$/.test(id), r);
    ok(ctx, `session id ${id} is new`, !m.sessions.some((s) => s.id === id), r);
    m.sessions.push({ id, open: true });
  }
}

class CloseSessionCmd extends Cmd {
  constructor(readonly sel: SessSel) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.sessions.length > 0;
  }
  describe(): string {
    return `CloseSession(${show(this.sel)})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const s = resolveSession(m, this.sel) as MSession;
    const url = `/v1/sessions/${spell(s.id, this.sel.spelling)}`;
    this.sent = `DELETE ${url}`;
    const ctx = this.ctx();
    const res = await r.http.call('DELETE', url);
    tally(this, res);
    if (!s.open) {
      refusedUnlogged(ctx, m, res, r, 'SessionExpired');
      return;
    }
    eq(ctx, 'status', res.status, 204, r);
    const z = writeZxid(ctx, m, res, r, true);
    // Its ephemerals go at once, in the close's transaction: each a child delete of its parent.
    for (const p of m.ephemeralsOf(s.id)) removeNode(m.tree, p, { z, time: NaN });
    s.open = false;
  }
}

class SessionInfoCmd extends Cmd {
  constructor(
    readonly sel: SessSel,
    readonly keepalive: boolean,
  ) {
    super();
  }
  override check(m: Readonly<Model>): boolean {
    return m.sessions.length > 0;
  }
  describe(): string {
    return `${this.keepalive ? 'Keepalive' : 'SessionInfo'}(${show(this.sel)})`;
  }
  async run(m: Model, r: Real): Promise<void> {
    const s = resolveSession(m, this.sel) as MSession;
    const url = `/v1/sessions/${spell(s.id, this.sel.spelling)}${this.keepalive ? '/keepalive' : ''}`;
    this.sent = `${this.keepalive ? 'POST' : 'GET'} ${url}`;
    const ctx = this.ctx();
    const res = await r.http.call(this.keepalive ? 'POST' : 'GET', url);
    tally(this, res);
    readZxid(ctx, m, res, r);
    if (!s.open) return expectError(ctx, res, 'SessionExpired', r);
    eq(ctx, 'status', res.status, 200, r);
    if (this.keepalive) eq(ctx, 'body', res.json, { sessionId: s.id, timeoutMs: SESSION_TIMEOUT_MS }, r);
    else eq(ctx, 'body', { ...res.json, ephemerals: [...(res.json.ephemerals as string[])].sort(byUtf8) }, { sessionId: s.id, timeoutMs: SESSION_TIMEOUT_MS, ephemerals: m.ephemeralsOf(s.id) }, r);
  }
}

export const sessionCmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null).map(() => new NewSessionCmd()) },
  { weight: 2, arbitrary: sessArb.map((s) => new CloseSessionCmd(s)) },
  { weight: 2, arbitrary: fc.tuple(sessArb, fc.boolean()).map(([s, k]) => new SessionInfoCmd(s, k)) },
);
