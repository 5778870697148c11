// The client side of the watch fan-out bench, run as its own process (forked by watch-fanout.ts, talking over IPC)
// so the server's numbers are not mixed with the clients': opens N WebSockets, sets watches, counts event frames and
// reports when the last one of an expected batch arrived (wall clock, comparable with the parent's) and its own CPU.
import WebSocket from 'ws';

let url = '';
const sockets: WebSocket[] = [];
/** The write being timed: events still due. Writes are sequential and nothing else writes during the bench, so
 * every event frame belongs to the write in flight. */
let left = 0;

function send(msg: unknown): void {
  process.send?.(msg);
}

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on one machine. */
const wallMs = () => performance.timeOrigin + performance.now();

function onFrame(): void {
  if (left > 0 && --left === 0) send({ ok: true, lastAtMs: wallMs() });
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
          let pending = paths.length;
          const onReply = (d: WebSocket.RawData) => {
            const f = JSON.parse(d.toString()) as { ok?: boolean; error?: string };
            if (f.ok === false) reject(new Error(`watch failed: ${f.error}`));
            if (f.ok !== undefined && --pending === 0) {
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
      case 'expect':
        // The next `events` frames end a timed write; the reply to this message says the client is ready.
        left = Number(m.events);
        send({ ok: true });
        break;
      case 'cpu': {
        const u = process.cpuUsage();
        send({ ok: true, cpuMs: (u.user + u.system) / 1000 });
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
