// The one zkgate server every ws-fuzz test plays against, with limits small enough to reach, and the tree the runs
// play on: its setup is shared so that the later tests can see what the earlier ones left behind.
import t from 'tap';
import { startTestServer } from '../../helpers/server.js';
import { logInto } from '../../helpers/log.js';
import { WatchHub } from '../../../server/watches/hub.js';
import { http } from '../client.js';

// ---- the server, with limits small enough to reach ----

export const LIMITS = {
  minZxidWaitMs: 60,
  wsMaxWatchesPerConnection: 12,
  wsMaxResumeBytes: 2048,
  wsMaxBufferedBytes: 64 * 1024,
  wsCloseGraceMs: 300,
  watchHistoryMaxEvents: 40,
  wsMaxRememberedEvents: 8,
  wsMaxConnectionsPerIp: 1000,
  tickTime: 50,
  minSessionTimeout: 200,
  maxSessionTimeout: 4000,
};
/** wsMaxFrameBytes stays at its documented default, 16 KiB. */
export const MAX_FRAME = 16 * 1024;

// Every WatchConnection the hub is asked to arm a watch for, weakly: a closed one must become garbage.
export const sinks: WeakRef<object>[] = [];
const hubProto = WatchHub.prototype as unknown as { watch: (this: unknown, sink: object, ...rest: unknown[]) => unknown };
const hubWatch = hubProto.watch;
hubProto.watch = function (this: unknown, sink: object, ...rest: unknown[]) {
  if (!sinks.some((r) => r.deref() === sink)) sinks.push(new WeakRef(sink));
  return hubWatch.call(this, sink, ...rest);
};

interface LogLine {
  level: number;
  msg: string;
  err?: { message?: string; stack?: string };
}
export const logLines: LogLine[] = [];
export const s = await startTestServer({ ...LIMITS, logLevel: 'warn' }, logInto(logLines, 'warn'));
t.teardown(() => s.destroy());
export const base = s.url;
export const wsUrl = base.replace(/^http/, 'ws') + '/v1/watch';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const JSON_CT = { 'content-type': 'application/json' };

/** Error-level lines logged since `from`, as text. */
export function errorsLogged(from = 0): string[] {
  return logLines.slice(from).filter((l) => l.level >= 50).map((l) => `${l.msg}: ${l.err?.message ?? ''}`);
}

// The tree the runs play on: stable nodes, a node anyone may change but no one may read, and room for the writer.
export const bigData = 'b'.repeat(3000);
for (const [p, body] of [['/f', 'f'], ['/big', bigData], ['/bin', Buffer.from([0xff, 0xfe, 0x00, 0x80])]] as const) {
  await http(base, 'POST', '/v1/znodes' + p, body);
}
await http(base, 'POST', '/v1/znodes/secret?acl=' + encodeURIComponent('world:anyone:cdwa'), 's');
await http(base, 'POST', '/v1/znodes/secret/c', 'c');
for (let i = 0; i < 20; i++) await http(base, 'PUT', '/v1/znodes/f', `f${i}`);
/** Every zxid up to this one has been applied before any run: a sinceZxid at or below it is never waited for. */
export const LOW_ZXID = 20;
if (Number((await http(base, 'POST', '/v1/sync')).body.zxid) < LOW_ZXID) throw new Error(`the setup writes did not reach zxid ${LOW_ZXID}`);
/** Far beyond anything a run writes: a sinceZxid this high always ends in ConnectionLoss after minZxidWaitMs. */
export const FUTURE_ZXID = 1_000_000_000_000;
