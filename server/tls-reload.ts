// Certificate rotation without a restart, as etcd and ZooKeeper (its certReload) offer: the TLS PEM files of the
// client port and of the peer channel are read and validated every TLS_RELOAD_CHECK_MS and on SIGHUP; when they
// differ from the set in use, the new set takes over new connections (open ones keep their session). A bad
// set (half-written, a key that does not match) is logged and the current certificates stay: a rotation must never
// take a serving node down. Which settings apply (tlsClientAuth, which keys are set) is read at start only.
import { createHash } from 'node:crypto';
import type { ServerOptions } from 'node:https';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { peerTlsFiles, tlsSettings } from './config.js';
import { peerTlsMaterial, tlsServerOptions, type PeerTls } from './tls.js';

/** How often the PEM files are read and compared with the set in use; a SIGHUP reloads at once. */
export const TLS_RELOAD_CHECK_MS = 60_000;

export interface TlsTargets {
  /** The client port's HTTPS server, given the new certificate, key and client CA. */
  client?: (o: ServerOptions) => void;
  /** The peer channel, for connections made or accepted from now on. */
  peer?: (t: PeerTls) => void;
}

/** What a loaded set holds, hashed in a fixed order: compared to tell a rotation from an unchanged set. */
function signature(client: ServerOptions | undefined, peer: PeerTls | undefined): string {
  const h = createHash('sha256');
  for (const part of [client?.cert, client?.key, client?.ca, peer?.cert, peer?.key, peer?.ca]) {
    h.update(part === undefined ? '-' : (part as Buffer));
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

export class TlsReloader {
  private readonly files: string[];
  private readonly timer: NodeJS.Timeout | undefined;
  private last: string;

  /** `loaded`: the sets the server started with, as readServerFiles read them (not read again here). */
  constructor(
    private readonly cfg: Config,
    private readonly log: Logger,
    private readonly targets: TlsTargets,
    loaded: { client?: ServerOptions; peer?: PeerTls },
  ) {
    this.files = watchedFiles(cfg);
    this.last = signature(loaded.client, loaded.peer);
    if (this.active) {
      this.timer = setInterval(() => this.check('files changed'), TLS_RELOAD_CHECK_MS);
      this.timer.unref();
    }
  }

  /** Whether there is anything to reload (TLS on the client port, or between peers). */
  get active(): boolean {
    return this.files.length > 0;
  }

  /**
   * Reads and validates the files (one read each) and, if they differ from the set in use (or always, with
   * `force`), hands them over; true when new certificates took over.
   */
  check(reason: string, force = false): boolean {
    if (!this.active) return false;
    let client: ServerOptions | undefined;
    let peer: PeerTls | undefined;
    try {
      const c = this.targets.client && tlsSettings(this.cfg);
      const p = this.targets.peer && peerTlsFiles(this.cfg);
      client = c && tlsServerOptions(c);
      peer = p && peerTlsMaterial(p);
    } catch (e) {
      // The set in use stays, and so does its signature: the next check tries again, so a rotation written in two
      // steps completes.
      this.log.error({ reason, err: (e as Error).message }, `TLS certificates not reloaded, the current ones stay: ${(e as Error).message}`);
      return false;
    }
    const now = signature(client, peer);
    if (!force && now === this.last) return false;
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
