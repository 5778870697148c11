// Failover time under a steady write load: SIGKILL the leader, then time until the first write issued after the
// kill succeeds (the client's view of "writes work again"); the killed member is restarted between rounds. A graceful
// stop (SIGTERM) is measured by the longest time without any successful write instead: the stopping leader goes on
// committing for a while, so the first write after the signal can succeed before the pause begins.
import { Agent, request } from 'node:http';
import zookeeper, { type Client, type Exception } from 'node-zookeeper-client';
import { HOT_NODES, HOT_PARENT, value } from './http-load.js';
import { sleep } from './procs.js';

/** One write against "the cluster"; `k` picks the target node (0-based; the writer moves on after a failure). */
type WriteOnce = (writer: number, attempt: number, i: number) => Promise<boolean>;

export interface FailoverRound {
  killedId: number;
  /** Leader SIGKILL → first successful write that was issued after the kill, ms (NaN if none within the limit). */
  firstWriteMs: number;
  /** The leader reported after the round (0 if none). */
  newLeaderId: number;
  /** Writes that failed between the kill and the first success. */
  failedWrites: number;
  /** Write throughput before the kill (ops/s over the steady window), to show the load was real. */
  steadyOpsPerS: number;
  /** Longest time without a successful write from the signal until writes had worked for SETTLE_MS after the leader was gone, ms. */
  longestGapMs?: number;
}

/** How long writes must have worked after the old leader exited before a round ends. */
const SETTLE_MS = 500;

export interface FailoverTarget {
  leader(): Promise<number>;
  kill(id: number, signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  restart(id: number): Promise<void>;
  write: WriteOnce;
}

export interface FailoverOptions {
  rounds: number;
  writers: number;
  steadyMs: number;
  /** Give up on a round after this long without a successful write. */
  limitMs: number;
  /** SIGKILL (the default: a crash) or SIGTERM (a graceful stop). */
  signal?: 'SIGKILL' | 'SIGTERM';
  log: (m: string) => void;
}

export async function measureFailover(t: FailoverTarget, o: FailoverOptions): Promise<FailoverRound[]> {
  const rounds: FailoverRound[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const killedId = await t.leader();
    let killAt = Infinity;
    let goneAt = Infinity;
    let firstOk = Infinity;
    /** The first write to complete once the old leader had exited. */
    let firstOkAfterGone = Infinity;
    let failedAfterKill = 0;
    let okBefore = 0;
    const okAfter: number[] = [];
    let stop = false;
    let n = 0;
    const loop = async (w: number) => {
      let attempt = w;
      while (!stop) {
        const sent = performance.now();
        const i = n++;
        // A write the client never answers (queued across a reconnect) counts as failed after the limit.
        const ok = await within(t.write(w, attempt, i), o.limitMs);
        const done = performance.now();
        if (ok) {
          if (sent >= killAt) firstOk = Math.min(firstOk, done);
          else if (done < killAt) okBefore++;
          if (done >= killAt) okAfter.push(done);
          if (done >= goneAt) firstOkAfterGone = Math.min(firstOkAfterGone, done);
        } else {
          if (sent >= killAt && firstOk === Infinity) failedAfterKill++;
          attempt++;
          await sleep(5);
        }
      }
    };
    const loops = Array.from({ length: o.writers }, (_, w) => loop(w));
    const t0 = performance.now();
    await sleep(o.steadyMs);
    const steadyOpsPerS = okBefore / ((performance.now() - t0) / 1000);
    killAt = performance.now();
    const signal = o.signal ?? 'SIGKILL';
    await t.kill(killedId, signal);
    goneAt = performance.now();
    const deadline = killAt + o.limitMs;
    const settled = () => performance.now() - firstOkAfterGone >= SETTLE_MS;
    while (!(firstOk !== Infinity && settled()) && performance.now() < deadline) await sleep(5);
    stop = true;
    await Promise.all(loops);
    const newLeaderId = await t.leader().catch(() => 0);
    const round: FailoverRound = { killedId, firstWriteMs: firstOk - killAt, newLeaderId, failedWrites: failedAfterKill, steadyOpsPerS, longestGapMs: longestGap(killAt, okAfter) };
    if (!Number.isFinite(round.firstWriteMs)) round.firstWriteMs = NaN;
    o.log(
      `failover round ${r + 1} (${signal}): leader ${killedId}, first write after ${round.firstWriteMs.toFixed(0)} ms, longest without a write ${round.longestGapMs?.toFixed(0)} ms, ` +
        `new leader ${newLeaderId}, ${failedAfterKill} failed writes, steady ${Math.round(steadyOpsPerS)}/s`,
    );
    rounds.push(round);
    await t.restart(killedId);
  }
  return rounds;
}

/** The longest stretch from `from` on with no successful write completing (NaN when none did). */
export function longestGap(from: number, oks: number[]): number {
  if (oks.length === 0) return NaN;
  let gap = 0;
  let prev = from;
  for (const x of [...oks].sort((a, b) => a - b)) {
    gap = Math.max(gap, x - prev);
    prev = x;
  }
  return gap;
}

function within(p: Promise<boolean>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      () => (clearTimeout(t), resolve(false)),
    );
  });
}

export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** zkgate writes: PUT a hot znode over keep-alive HTTP, starting at node `writer % n`, moving on after a failure. */
export function zkgateWriter(urls: string[], valueBytes: number, timeoutMs = 10000): { write: WriteOnce; close: () => void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const body = value(valueBytes);
  const write: WriteOnce = (_w, attempt, i) =>
    new Promise((resolve) => {
      const u = new URL(`${urls[attempt % urls.length]}/v1/znodes${HOT_PARENT}/n${i % HOT_NODES}`);
      const req = request(u, { method: 'PUT', agent, timeout: timeoutMs, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve((res.statusCode ?? 500) < 300));
        res.on('error', () => resolve(false));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
      req.end(body);
    });
  return { write, close: () => agent.destroy() };
}

/**
 * ZooKeeper writes: one node-zookeeper-client session per writer over the whole connect string. Its reconnect
 * delay is lowered from a random 0–1000 ms to 0–50 ms so the figure is the ensemble's, not the client's back-off.
 */
export async function zkWriters(connect: string, writers: number, valueBytes: number): Promise<{ write: WriteOnce; close: () => void }> {
  const clients: Client[] = [];
  for (let i = 0; i < writers; i++) {
    const c = zookeeper.createClient(connect, { sessionTimeout: 30000, spinDelay: 50, retries: 0 });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no ZooKeeper session within 10 s')), 10000);
      c.once('connected', () => (clearTimeout(t), resolve()));
      c.connect();
    });
    clients.push(c);
  }
  const v = value(valueBytes);
  const write: WriteOnce = (w, _attempt, i) =>
    new Promise((resolve) => (clients[w] as Client).setData(`${HOT_PARENT}/n${i % HOT_NODES}`, v, -1, (err: Exception | null) => resolve(!err)));
  return { write, close: () => clients.forEach((c) => c.close()) };
}
