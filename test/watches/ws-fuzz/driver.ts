// The driver: plays a generated plan on real connections while a writer changes the tree, and collects every broken
// invariant; also the small helpers the targeted tests share, so that each test reads as its frames and checks.
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { http } from '../client.js';
import type { ConnPlan, RunPlan, Write } from './generators.js';
import { connectionProblems } from './invariants.js';
import { ConnModel, type Expectation, type RunSessions } from './oracle.js';
import { Recorder, type Frame } from './recorder.js';
import { JSON_CT, LIMITS, base, errorsLogged, logLines, sleep } from './server.js';

// ---- running one plan ----

export async function newSession(timeoutMs: number): Promise<string> {
  return String((await http(base, 'POST', '/v1/sessions', JSON.stringify({ timeoutMs }), JSON_CT)).body.sessionId);
}

function resolveSessions(text: string, rs: RunSessions): string {
  return text.replace(/§([SC])(\d?)([\^z]?)§/g, (_m, which: string, n: string, variant: string) => {
    const sid = which === 'C' ? rs.closed : (rs.live[Number(n)] as string);
    if (variant === '^') return sid.toUpperCase();
    if (variant === 'z') return '0x' + sid.slice(2).padStart(16, '0');
    return sid;
  });
}

async function runWrites(writes: Write[], rs: RunSessions, stop: () => boolean): Promise<string[]> {
  const problems: string[] = [];
  for (const w of writes) {
    if (stop()) break;
    let r: { status: number; body: Frame };
    const z = (p: string) => '/v1/znodes' + p.split('/').map(encodeURIComponent).join('/');
    switch (w.w) {
      case 'create':
        r = await http(base, 'POST', z(w.path) + '?parents', w.data);
        break;
      case 'set':
        r = await http(base, 'PUT', z(w.path), w.data);
        break;
      case 'delete':
        r = await http(base, 'DELETE', z(w.path) + '?recursive');
        break;
      case 'multi': {
        const ops = w.paths.flatMap((path) => [{ op: 'create', path }, { op: 'delete', path }, { op: 'create', path, data: 'm' }]);
        r = await http(base, 'POST', '/v1/multi', JSON.stringify({ ops }), JSON_CT);
        break;
      }
      case 'ephemeral':
        r = await http(base, 'POST', '/v1/znodes/f/q/e?ephemeral&sequential&parents', 'e', { 'zk-session': rs.live[w.session] as string });
        break;
      case 'closeSession':
        r = await http(base, 'DELETE', '/v1/sessions/' + (rs.live[w.session] as string));
        break;
      case 'sequential':
        r = await http(base, 'POST', '/v1/znodes/f/q/n?sequential&parents', 'n');
        break;
      case 'secret':
        r = await http(base, 'PUT', '/v1/znodes/secret', 'changed');
        break;
    }
    if (r.status >= 500 && r.status !== 503) problems.push(`write ${JSON.stringify(w)}: ${r.status} ${JSON.stringify(r.body)}`);
    await sleep(1);
  }
  return problems;
}

/** A fresh, well-behaved watcher gets its event for a write made now: the server still serves others. */
export async function serverStillServes(): Promise<string | undefined> {
  const c = await Recorder.open();
  try {
    const path = `/probe-${randomBytes(4).toString('hex')}`;
    c.ws.send(JSON.stringify({ id: 'probe', op: 'watch', path, kind: 'exists' }));
    if (!(await c.until(() => c.replies.length > 0, 5000))) return 'a fresh watcher got no reply';
    const r = await http(base, 'POST', '/v1/znodes' + path, 'p');
    if (r.status !== 201) return `the probe write got ${r.status}`;
    if (!(await c.until(() => c.got.some((g) => g.f.type === 'event' && g.f.path === path), 5000))) return 'a fresh watcher got no event for a write';
    await http(base, 'DELETE', '/v1/znodes' + path);
    return undefined;
  } finally {
    c.ws.close();
    await c.until(() => c.closed !== undefined, 2000);
  }
}

/** Once every client has gone, the server holds no watch and no connection (polled: closes take a moment). */
export async function nothingHeld(): Promise<string | undefined> {
  let last = '';
  for (let i = 0; i < 100; i++) {
    const w = (await http(base, 'GET', '/v1/admin/wchs')).body;
    const metrics = await (await fetch(base + '/metrics')).text();
    const wsOpen = /^zkgate_ws_connections (\d+)/m.exec(metrics)?.[1];
    last = `wchs ${JSON.stringify(w)}, zkgate_ws_connections ${wsOpen}`;
    if (w.numConnections === 0 && w.numWatchingConnections === 0 && w.numPaths === 0 && w.numTotalWatches === 0 && wsOpen === '0') return undefined;
    await sleep(20);
  }
  return `state left after every client closed: ${last}`;
}

export const HANG_MS = 5000;

/** What the runs exchanged, for the log (and the campaign's count of frames). */
const stats = { frames: 0, replies: 0, ok: 0, errors: {} as Record<string, number>, events: 0, closes: {} as Record<string, number> };
function tally(rec: Recorder, frames: number): void {
  stats.frames += frames;
  for (const g of rec.got) {
    if (g.reply) {
      stats.replies++;
      if (g.f.ok === true) stats.ok++;
      else stats.errors[String(g.f.error)] = (stats.errors[String(g.f.error)] ?? 0) + 1;
    } else if (g.f.type === 'event') stats.events++;
  }
  const code = String(rec.closed?.code);
  stats.closes[code] = (stats.closes[code] ?? 0) + 1;
}

async function playConnection(plan: ConnPlan, rs: RunSessions, writerDone: Promise<unknown>): Promise<string[]> {
  const rec = await Recorder.open();
  const model = new ConnModel(rs);
  const exp: Expectation[] = [];
  const ended: { bigAt?: number; clientClose?: number } = {};
  const send = (text: string) => {
    const resolved = resolveSessions(text, rs);
    // What the server reads: ws sends a string as UTF-8, which turns a lone surrogate into U+FFFD.
    exp.push(model.expect(Buffer.from(resolved, 'utf8').toString('utf8')));
    rec.ws.send(resolved);
  };
  for (const a of plan.actions) {
    if (rec.closed || rec.ws.readyState !== WebSocket.OPEN) break;
    switch (a.t) {
      case 'text':
        send(a.text);
        break;
      case 'binary':
        exp.push({ what: `binary frame of ${a.bytes.length} bytes`, id: null, outcomes: [{ error: 'MarshallingError' }] });
        rec.ws.send(a.bytes, { binary: true });
        break;
      case 'big':
        ended.bigAt ??= exp.length;
        rec.ws.send(a.binary ? Buffer.alloc(a.size, 7) : JSON.stringify({ id: 'big', op: 'ping', x: 'x'.repeat(a.size) }), { binary: a.binary });
        break;
      case 'burst':
        for (let i = 0; i < a.n; i++) send(i % 3 === 2 ? JSON.stringify({ id: i, op: 'watch', path: '/f/b' + 'x'.repeat(a.pad % 1800), kind: 'exists' }) : JSON.stringify({ id: i, op: 'ping', ...(a.pad ? { pad: 'p'.repeat(a.pad) } : {}) }));
        break;
      case 'sleep':
        await sleep(a.ms);
        break;
    }
  }
  if (plan.stallMs > 0) {
    rec.ws.pause();
    await sleep(plan.stallMs);
    rec.ws.resume();
  }
  const problems: string[] = [];
  const answered = () => rec.closed !== undefined || rec.replies.length >= exp.length;
  const open = () => !rec.closed && rec.ws.readyState === WebSocket.OPEN;
  switch (plan.ending.how) {
    case 'terminate':
      await sleep(plan.ending.afterMs);
      ended.clientClose = 1006;
      rec.ws.terminate();
      break;
    case 'closeEarly':
      ended.clientClose = 4000;
      if (open()) rec.ws.close(4000, 'early');
      break;
    case 'close':
    case 'closeCode': {
      if (!(await rec.until(answered, HANG_MS))) {
        const first = exp[rec.replies.length] as Expectation;
        problems.push(`no reply to ${first.what} within ${HANG_MS} ms and no close: a hang`);
        ended.clientClose = 1006;
        rec.ws.terminate();
        break;
      }
      await writerDone;
      // A ping round trip: every event sent before it has arrived.
      if (open()) {
        send(JSON.stringify({ id: 'last', op: 'ping' }));
        if (!(await rec.until(answered, HANG_MS))) problems.push(`no reply to the last ping within ${HANG_MS} ms and no close: a hang`);
      }
      const code = plan.ending.how === 'close' ? 1000 : plan.ending.code;
      if (open()) {
        ended.clientClose = code;
        rec.ws.close(code, plan.ending.how === 'closeCode' ? plan.ending.reason : 'done');
      }
      break;
    }
  }
  if (!(await rec.until(() => rec.closed !== undefined, HANG_MS))) {
    problems.push('the close handshake never completed');
    rec.ws.terminate();
  } else if (ended.clientClose !== undefined && ended.clientClose !== 1006 && rec.closed && ![ended.clientClose, 1000, 1008, 1009].includes(rec.closed.code)) {
    problems.push(`a client close ${ended.clientClose} was answered ${rec.closed.code} ${rec.closed.reason}`);
  }
  problems.push(...connectionProblems(rec, exp, model, ended));
  tally(rec, exp.length + (ended.bigAt === undefined ? 0 : 1));
  return problems;
}

/** Checks one plan; throws with every problem found. */
async function playRun(plan: RunPlan): Promise<void> {
  const logFrom = logLines.length;
  const closed = await newSession(2000);
  await http(base, 'DELETE', '/v1/sessions/' + closed);
  const rs: RunSessions = { live: [await newSession(LIMITS.minSessionTimeout), await newSession(1500)], closed };
  let stop = false;
  const writer = runWrites(plan.writes, rs, () => stop);
  const results = await Promise.all(plan.conns.map((c) => playConnection(c, rs, writer)));
  stop = true;
  const problems = [...(await writer), ...results.flatMap((p, i) => p.map((x) => `connection ${i}: ${x}`))];
  const serving = await serverStillServes();
  if (serving) problems.push(serving);
  const held = await nothingHeld();
  if (held) problems.push(held);
  problems.push(...errorsLogged(logFrom).map((e) => `logged at error level: ${e}`));
  for (const sid of rs.live) await http(base, 'DELETE', '/v1/sessions/' + sid);
  await http(base, 'DELETE', '/v1/znodes/f/q?recursive');
  if (problems.length) throw new Error(problems.join('\n'));
}

interface Reporter {
  comment(...m: unknown[]): void;
  fail(m: string): void;
  pass(m: string): void;
}

export async function checkProperty(t: Reporter, name: string, arb: fc.Arbitrary<RunPlan>, seed: number, numRuns: number): Promise<void> {
  const started = Date.now();
  const details = await fc.check(
    fc.asyncProperty(arb, (plan) => playRun(plan)),
    { seed, numRuns, endOnFailure: true },
  );
  t.comment(`${name}: seed ${seed}, ${details.numRuns} runs in ${Date.now() - started} ms; so far ${JSON.stringify(stats)}`);
  if (details.failed) {
    const problems = String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance).split('\n');
    const shown = problems.slice(0, 4).map((p) => (p.length > 600 ? p.slice(0, 600) + '…' : p));
    t.fail(`${name} (seed ${seed}, run ${details.counterexamplePath}): ${problems.length} problem(s):\n${shown.join('\n')}\ncounterexample: ${JSON.stringify(details.counterexample)?.slice(0, 4000)}`);
  } else t.pass(`${name}: ${details.numRuns} random runs kept every invariant`);
}

/** Sends `frames` on a fresh connection, waits for as many replies (or a close), and returns the recorder. */
export async function exchange(frames: (string | Buffer)[], expectReplies = frames.length): Promise<Recorder> {
  const c = await Recorder.open();
  for (const f of frames) c.ws.send(f, { binary: typeof f !== 'string' });
  await c.until(() => c.replies.length >= expectReplies || c.closed !== undefined, HANG_MS);
  return c;
}

export async function closeAll(...cs: Recorder[]): Promise<void> {
  for (const c of cs) {
    if (c.closed) continue;
    c.ws.close();
    await c.until(() => c.closed !== undefined, 2000);
  }
}
