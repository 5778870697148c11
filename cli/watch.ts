// `zkgate watch PATH [--kind ...]`: streams watch events over the WebSocket /v1/watch (API.md §5) until
// interrupted. One-shot kinds are re-armed after each event with sinceZxid, and a dropped connection is resumed
// on the next --url from the last zxid seen, so no event is lost in between.
import type { Command } from 'commander';
import { Option } from 'commander';
import type WebSocket from 'ws';
import type { Client, ClientOptions } from './http.js';
import { checkPath, clientCommand, makeClient } from './common.js';
import { line, runAction } from './output.js';
import { CliFailure, ZkFailure, type ZkErrorBody } from './errors.js';

export const WATCH_KINDS = ['persistent', 'persistentRecursive', 'data', 'exists', 'children'] as const;
type Kind = (typeof WATCH_KINDS)[number];

/** Reconnection attempts in a row (each over every --url) before the command gives up. */
const MAX_RECONNECT_ROUNDS = 5;

interface Frame {
  id?: number | null;
  ok?: boolean;
  type?: string;
  event?: string;
  path?: string;
  zxid?: string;
  state?: string;
  error?: string;
  code?: number;
  message?: string;
  /** The watched node's stat in a watch's answer; null when it does not exist. */
  stat?: unknown;
}

function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws') + '/v1/watch';
}

export function registerWatchCommand(program: Command): void {
  clientCommand(program, 'watch', 'stream the watch events of a znode until interrupted (Ctrl-C)')
    .argument('<path>')
    .addOption(new Option('--kind <kind>', 'watch kind').choices([...WATCH_KINDS]).default('persistent'))
    .action((path: string, o: ClientOptions & { kind: Kind }) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        await streamWatch(c, checkPath(path), o.kind, o.json === true);
      }),
    );
}

async function streamWatch(c: Client, path: string, kind: Kind, json: boolean): Promise<void> {
  // Loaded here so that the other commands start faster.
  const { default: WebSocketClient } = await import('ws');
  const oneShot = kind === 'data' || kind === 'exists' || kind === 'children';
  let since: string | undefined;
  let interrupted = false;
  let failedRounds = 0;
  let current: WebSocket | undefined;
  const onSignal = () => {
    interrupted = true;
    current?.close(1000, 'interrupted');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (;;) {
      let progressed = false;
      let lastReason = '';
      for (let i = 0; i < c.urls.length && !interrupted; i++) {
        const url = c.urls[(i + c.urls.indexOf(c.currentUrl)) % c.urls.length] as string;
        const r = await session(url);
        if (r.kind === 'done') return;
        if (r.kind === 'armed') progressed = true;
        lastReason = r.reason;
        if (interrupted) return;
      }
      if (interrupted) return;
      failedRounds = progressed ? 0 : failedRounds + 1;
      if (failedRounds >= MAX_RECONNECT_ROUNDS) throw new CliFailure(`watch on ${path} lost and could not be resumed: ${lastReason}`);
      await new Promise((r) => setTimeout(r, 200 * failedRounds));
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  /** One connection: arm, print events, resolve when it ends ('done' = stop for good). */
  function session(url: string): Promise<{ kind: 'done' } | { kind: 'armed' | 'failed'; reason: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      if (c.authorization) headers.authorization = c.authorization;
      const ws = new WebSocketClient(wsUrl(url), { headers, handshakeTimeout: c.timeoutMs, ...c.tls });
      current = ws;
      let nextId = 1;
      let armed = false;
      let reason = 'connection closed';
      let settled = false;
      const finish = (v: { kind: 'done' } | { kind: 'armed' | 'failed'; reason: string } | Error) => {
        if (settled) return;
        settled = true;
        if (v instanceof Error) reject(v);
        else resolve(v);
      };
      const arm = () => {
        const msg: Record<string, unknown> = { id: nextId++, op: 'watch', path, kind };
        if (since !== undefined) msg.sinceZxid = since;
        ws.send(JSON.stringify(msg));
      };
      ws.on('open', arm);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString('utf8')));
        res.on('end', () => {
          reason = `${url} refused the WebSocket upgrade: HTTP ${res.statusCode}${body ? ' ' + body.slice(0, 200) : ''}`;
          try {
            const e = JSON.parse(body) as ZkErrorBody;
            // An answer about the watch itself (not the server's state) is final.
            if (typeof e.error === 'string' && res.statusCode !== 503) return finish(new ZkFailure(e, res.statusCode ?? 0, url));
          } catch {
            /* not one of our errors */
          }
          finish({ kind: 'failed', reason });
        });
      });
      ws.on('error', (e: Error & { code?: string }) => {
        reason = `cannot reach ${url}: ${e.code === 'ECONNREFUSED' ? 'connection refused; the server is probably not running' : e.message}`;
      });
      ws.on('close', (code, why) => {
        if (interrupted) return finish({ kind: 'done' });
        if (code !== 1006) reason = `${url} closed the watch connection (${code}${why.length ? ' ' + why.toString() : ''})`;
        finish({ kind: armed ? 'armed' : 'failed', reason });
      });
      const gone = () => {
        process.stderr.write(`zkgate: ${path} no longer exists; watch ended\n`);
        ws.close(1000);
        interrupted = true;
        finish({ kind: 'done' });
      };
      ws.on('message', (data) => {
        let f: Frame;
        try {
          f = JSON.parse(data.toString()) as Frame;
        } catch {
          return;
        }
        if (f.ok === false) {
          const body: ZkErrorBody = { error: f.error ?? 'SystemError', code: f.code ?? -1, message: f.message ?? '', path: f.path };
          // A one-shot data/children watch cannot be re-armed once its node is gone: the stream ends there.
          if (armed && oneShot && body.error === 'NoNode') return gone();
          ws.close(1000);
          interrupted = true;
          return finish(new ZkFailure(body, 0, url));
        }
        if (f.ok === true) {
          // Re-armed with sinceZxid after the NodeDeleted it printed, the server answers that the watch fired on an
          // event already received (docs/watches.md, Resuming) and arms nothing: the node is gone, as with NoNode.
          if (armed && (kind === 'data' || kind === 'children') && f.stat === null) return gone();
          if (!armed) process.stderr.write(`watching ${path} (${kind}) at zxid ${f.zxid ?? '?'}; Ctrl-C to stop\n`);
          armed = true;
          if (since === undefined && f.zxid !== undefined) since = f.zxid;
          return;
        }
        if (f.type === 'event') {
          if (f.zxid !== undefined) since = f.zxid;
          line(json ? JSON.stringify(f) : `WatchedEvent state:SyncConnected type:${f.event} path:${f.path} zxid:${f.zxid}`);
          if (oneShot) arm();
          return;
        }
        if (f.type === 'resync') {
          // The server could not replay every missed change; what we print from here on is current again.
          line(json ? JSON.stringify(f) : `WatchedEvent state:SyncConnected type:Resync path:${f.path ?? path}`);
        }
      });
    });
  }
}
