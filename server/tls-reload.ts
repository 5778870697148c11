// Certificate rotation without a restart, as etcd and ZooKeeper (its certReload) offer: the TLS PEM files of the
// client port and of the peer channel are checked every TLS_RELOAD_CHECK_MS and on SIGHUP; when any changed, the
// new set is read and validated, and only then takes over new connections (open ones keep their session). A bad
// set (half-written, a key that does not match) is logged and the current certificates stay: a rotation must never
// take a serving node down. Which settings apply (tlsClientAuth, which keys are set) is read at start only.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { peerTlsFiles, tlsSettings } from './config.js';
import { peerTlsMaterial, tlsServerOptions, type PeerTls } from './tls.js';

/** How often the PEM files are compared with what was loaded; a SIGHUP reloads at once. */
export const TLS_RELOAD_CHECK_MS = 60_000;

export interface TlsTargets {
  /** The client port's HTTPS server, given the new certificate, key and client CA. */
  client?: (o: ServerOptions) => void;
  /** The peer channel, for connections made or accepted from now on. */
  peer?: (t: PeerTls) => void;
}

/**
 * What the files hold, hashed: a few KB read once a minute. Their stat would do less reading, but file times are
 * coarse (a rewrite within the same clock tick, of the same size, would go unseen).
 */
function signature(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    try {
      h.update(readFileSync(f));
    } catch (e) {
      h.update(`${f}:${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    h.update('\0');
  }
  return h.digest('hex');
}

/** The PEM files a node serves with: the client port's, and the peers' in an ensemble. */
function watchedFiles(cfg: Config): string[] {
  const client = tlsSettings(cfg);
  const peer = cfg.servers.length > 0 ? peerTlsFiles(cfg) : undefined;
  return [client?.certFile, client?.keyFile, client?.clientCaFile, peer?.certFile, peer?.keyFile, peer?.caFile].filter((f): f is string => f !== undefined);
}

/**
 * The files' signature, taken before the server reads them at start: a rotation landing between that read and
 * the reloader's start is then seen at the first check, not missed until the next one.
 */
export function tlsFilesSignature(cfg: Config): string {
  return signature(watchedFiles(cfg));
}

export class TlsReloader {
  private readonly files: string[];
  private readonly timer: NodeJS.Timeout | undefined;

  /** `last`: tlsFilesSignature(cfg) from before the files were loaded. */
  constructor(
    private readonly cfg: Config,
    private readonly log: Logger,
    private readonly targets: TlsTargets,
    private last: string,
  ) {
    this.files = watchedFiles(cfg);
    if (this.files.length > 0) {
      this.timer = setInterval(() => this.check('files changed'), TLS_RELOAD_CHECK_MS);
      this.timer.unref();
    }
  }

  /** Reloads if any file changed since the last load (or always, with `force`); true when new certificates took over. */
  check(reason: string, force = false): boolean {
    if (this.files.length === 0) return false;
    const now = signature(this.files);
    if (!force && now === this.last) return false;
    let client: ServerOptions | undefined;
    let peer: PeerTls | undefined;
    try {
      const c = this.targets.client && tlsSettings(this.cfg);
      const p = this.targets.peer && peerTlsFiles(this.cfg);
      client = c && tlsServerOptions(c);
      peer = p && peerTlsMaterial(p);
    } catch (e) {
      // Not remembered as loaded: the next check tries again, so a rotation written in two steps completes.
      this.log.error({ reason, err: (e as Error).message }, `TLS certificates not reloaded, the current ones stay: ${(e as Error).message}`);
      return false;
    }
    if (client) this.targets.client?.(client);
    if (peer) this.targets.peer?.(peer);
    this.last = now;
    this.log.info({ reason, files: this.files }, 'TLS certificates reloaded; new connections use them');
    return true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
