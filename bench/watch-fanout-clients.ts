// The client side of the watch fan-out bench, run as its own process (forked by watch-fanout.ts, talking over IPC)
// so the server's numbers are not mixed with the clients': opens N WebSockets, sets watches, does the timed writes
// itself (one clock for send, response and last event) and reports latencies.
import { request, Agent } from 'node:http';
import WebSocket from 'ws';

export interface FanoutSample {
  fromSendMs: number;
  fromResponseMs: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let url = '';
const sockets: WebSocket[] = [];
/** The write being timed: events still due, and what to call when the last arrives. Writes are sequential and
 * nothing else writes during the bench, so every event frame belongs to the write in flight. */
let expect: { left: number; done: (atMs: number) => void } | undefined;

function send(msg: unknown): void {
  process.send?.(msg);
}

function put(path: string, body: string): Promise<{ atMs: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url + '/v1/znodes' + path, { method: 'PUT', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ atMs: performance.now() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function onFrame(data: WebSocket.RawData): void {
  const e = expect;
  if (!e) return;
  if (--e.left === 0) {
    expect = undefined;
    e.done(performance.now());
  }
}

async function openAll(n: number, concurrency: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const ws = new WebSocket(url.replace('http', 'ws') + '/v1/watch', { perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.on('message', onFrame);
      sockets.push(ws);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Sends each socket its watch frames and waits for every reply. */
async function watchAll(pathsOf: (i: number) => string[]): Promise<void> {
  const BATCH = 500;
  for (let b = 0; b < sockets.length; b += BATCH) {
    const waits: Promise<void>[] = [];
    for (let i = b; i < Math.min(sockets.length, b + BATCH); i++) {
      const ws = sockets[i] as WebSocket;
      const paths = pathsOf(i);
      waits.push(
        new Promise<void>((resolve, reject) => {
          let left = paths.length;
          const onReply = (d: WebSocket.RawData) => {
            const f = JSON.parse(d.toString()) as { ok?: boolean; error?: string };
            if (f.ok === false) reject(new Error(`watch failed: ${f.error}`));
            if (f.ok !== undefined && --left === 0) {
              ws.off('message', onReply);
              resolve();
            }
          };
          ws.on('message', onReply);
          for (const p of paths) ws.send(JSON.stringify({ id: 1, op: 'watch', path: p, kind: 'persistent' }));
        }),
      );
    }
    await Promise.all(waits);
  }
}

/** One write; resolves when `events` event frames have arrived. */
async function timedWrite(path: string, events: number): Promise<FanoutSample> {
  let lastAt = 0;
  const all = new Promise<void>((resolve) => {
    expect = { left: events, done: (at) => ((lastAt = at), resolve()) };
  });
  const t0 = performance.now();
  const r = await put(path, 'x');
  await all;
  return { fromSendMs: lastAt - t0, fromResponseMs: lastAt - r.atMs };
}

process.on('message', async (m: { cmd: string; [k: string]: unknown }) => {
  try {
    switch (m.cmd) {
      case 'open':
        url = String(m.url);
        await openAll(Number(m.connections), Number(m.concurrency));
        send({ ok: true, open: sockets.length });
        break;
      case 'watch': {
        const per = Number(m.perConnection);
        const hot = String(m.hot);
        const prefix = String(m.prefix);
        await watchAll((i) => [hot, `${prefix}/n${i}`, ...Array.from({ length: Math.max(0, per - 2) }, (_x, j) => `${prefix}/n${i}/w${j}`)]);
        send({ ok: true });
        break;
      }
      case 'fanout': {
        const samples: FanoutSample[] = [];
        for (let k = 0; k < Number(m.writes); k++) samples.push(await timedWrite(String(m.path), sockets.length));
        send({ ok: true, samples });
        break;
      }
      case 'single': {
        const samples: FanoutSample[] = [];
        const prefix = String(m.prefix);
        for (let k = 0; k < Number(m.writes); k++) samples.push(await timedWrite(`${prefix}/n${(k * 7919) % sockets.length}`, 1));
        send({ ok: true, samples });
        break;
      }
      case 'exit':
        for (const ws of sockets) ws.terminate();
        send({ ok: true });
        process.exit(0);
    }
  } catch (e) {
    send({ ok: false, error: String(e) });
  }
});
