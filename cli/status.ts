// `zkgate status`: asks a node for its mode like `zkServer.sh status` (Mode: standalone|leader|follower|observer).
// Exit 0 when the node serves in a known role; exit 1 with the reason when it is looking, refuses reads (catching
// up, installing a snapshot), not running, refuses, does not answer in time, or is not the myid the zoo.cfg says.
import type { Command } from 'commander';
import { Client, failureOf, parseError, type ClientOptions } from './http.js';
import { runAction, line } from './output.js';
import { CliFailure, Unreachable, UsageError } from './errors.js';

type StatusOptions = Pick<ClientOptions, 'timeout' | 'cacert' | 'cert' | 'key'>;

const SERVING = new Set(['standalone', 'leader', 'follower', 'observer']);

/** The address a zoo.cfg's node serves HTTP on, as a client reaches it (a wildcard bind is asked on loopback). */
export async function urlFromConfig(file: string): Promise<{ url: string; myid?: number }> {
  const { loadConfig } = await import('../server/zoo-cfg.js');
  const { clientUrl } = await import('../server/config.js');
  const { ConfigError } = await import('../server/config-values.js');
  let cfg;
  try {
    cfg = loadConfig({ config: file });
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`configuration error (${e.key}): ${e.message}`);
    throw e;
  }
  const wildcard = cfg.httpHost === '0.0.0.0' || cfg.httpHost === '::' || cfg.httpHost === '';
  return { url: clientUrl(cfg, wildcard ? '127.0.0.1' : cfg.httpHost), myid: cfg.myid };
}

async function statusOf(url: string, o: StatusOptions, expectMyid: number | undefined): Promise<void> {
  let c: Client;
  try {
    c = new Client({ ...o, url: [url] });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const addr = url.replace(/^https?:\/\//, '');
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), addr.slice(addr.lastIndexOf(':') + 1)];
  line(`Client port found: ${port}. Client address: ${host}. Client SSL: ${url.startsWith('https:')}.`);
  let srvr;
  try {
    srvr = await c.request('GET', '/v1/admin/srvr');
  } catch (e) {
    // A zkgate peer port takes the connection and drops it at the first bytes, which are no peer frame.
    if (e instanceof Unreachable && e.reason === 'reset') throw notZkgate(url, 'it closed the connection without an HTTP answer; it may be a zkgate peer port (server.N), not the HTTP port');
    if (e instanceof Unreachable) throw new CliFailure(`Error contacting service at ${url}: ${e.message.slice(`cannot reach ${url}: `.length)}`);
    throw e;
  }
  if (srvr.status !== 200 && !parseError(srvr)) {
    throw notZkgate(url, `HTTP ${srvr.status}${srvr.headers['content-type'] ? ` ${srvr.headers['content-type'].split(';')[0]}` : ''} without a zkgate error`);
  }
  if (srvr.status !== 200) {
    const f = failureOf(srvr);
    throw new CliFailure(`${url} refused the status request: HTTP ${srvr.status} ${f.message}`);
  }
  let mode: unknown;
  try {
    mode = (JSON.parse(srvr.body.toString('utf8')) as { mode?: unknown }).mode;
  } catch {
    mode = undefined;
  }
  if (typeof mode !== 'string') throw notZkgate(url, 'no mode in /v1/admin/srvr');
  let cluster: { myid?: number | null; members?: { linkError?: unknown }[]; readRefusal?: unknown; voteLimit?: unknown; leaderRefusal?: unknown } = {};
  try {
    const cl = await c.request('GET', '/v1/admin/cluster');
    if (cl.status === 200) cluster = JSON.parse(cl.body.toString('utf8')) as typeof cluster;
  } catch (e) {
    // Only the myid check needs this answer (a body that is not JSON counts as none); the link reasons are extra.
    if (expectMyid !== undefined && !(e instanceof SyntaxError)) throw e;
  }
  if (expectMyid !== undefined && cluster.myid !== expectMyid) {
    throw new CliFailure(`wrong myid: the config says this node is myid ${expectMyid}, but the server at ${url} is myid ${cluster.myid ?? 'unknown (standalone)'}`);
  }
  line(`Mode: ${mode}`);
  // Why a member is missing is on this node, not on the one the operator suspects: say it here.
  for (const m of Array.isArray(cluster.members) ? cluster.members : []) {
    if (typeof m.linkError === 'string') line(`Unlinked peer: ${m.linkError}`);
  }
  // A member that is up but refuses reads (cut off, catching up, installing a snapshot) says why.
  if (typeof cluster.readRefusal === 'string') line(`Reads refused: ${cluster.readRefusal}`);
  // A replaced member catching up: informational (it serves, and an election without its vote can still be won).
  if (typeof cluster.voteLimit === 'string') line(`Vote limited: ${cluster.voteLimit}`);
  // Its data is not the ensemble's: the reason it stays looking.
  if (typeof cluster.leaderRefusal === 'string') line(`Leader refused: ${cluster.leaderRefusal}`);
  if (!SERVING.has(mode)) throw new CliFailure(mode === 'looking' ? `${url} is up but knows no leader (looking)` : `${url} reports mode ${mode}`);
  // Not serving yet, as ZooKeeper's status fails for a server still syncing with its leader: a rolling restart that
  // waits for exit 0 must not take the next member down while this one catches up.
  if (typeof cluster.readRefusal === 'string') throw new CliFailure(`${url} is a ${mode} but serves no reads yet (Reads refused above)`);
}

function notZkgate(url: string, why: string): CliFailure {
  return new CliFailure(`${url} answered, but not as a zkgate server (${why}); wrong port?`);
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('print the mode of a node (Mode: standalone|leader|follower|observer), like zkServer.sh status')
    .option('--config <file>', "zoo.cfg of the node to ask (its server.<myid> line or clientPortAddress/httpPort)")
    .option('--url <url>', 'the node to ask; repeat for several (each is reported)', (v: string, p: string[]) => [...p, v], [])
    .option('--timeout <ms>', 'how long to wait for an answer', '5000')
    .option('--cacert <file>', 'PEM CA certificate to trust for an https:// node')
    .option('--cert <file>', 'PEM client certificate, for a node with tlsClientCaFile (with --key)')
    .option('--key <file>', 'PEM key of the --cert client certificate')
    .action((o: StatusOptions & { config?: string; url: string[] }) =>
      runAction(false, async () => {
        const targets: { url: string; myid?: number }[] = [];
        if (o.config) targets.push(await urlFromConfig(o.config));
        for (const u of o.url.flatMap((x) => x.split(','))) if (u.trim()) targets.push({ url: u.trim().replace(/\/+$/, '') });
        if (targets.length === 0) targets.push({ url: process.env.ZKGATE_URL || 'http://127.0.0.1:8080' });
        let failed: unknown;
        for (const t of targets) {
          try {
            await statusOf(t.url, { timeout: o.timeout, cacert: o.cacert, cert: o.cert, key: o.key }, t.myid);
          } catch (e) {
            if (targets.length === 1) throw e;
            process.stderr.write(`zkgate: ${(e as Error).message}\n`);
            failed = e;
          }
        }
        if (failed) process.exitCode = 1;
      }),
    );
}
