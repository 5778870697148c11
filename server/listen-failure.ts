// What `zkgate server` says when it cannot bind one of its ports: which port, and for a host name that does not
// resolve, which key holds it (a bad value: exit 2, API.md §1) rather than a stack trace.
import type { Config } from './config.js';

export interface ListenFailure {
  exit: 1 | 2;
  text: string;
}

export function listenFailure(cfg: Config, err: NodeJS.ErrnoException): ListenFailure | null {
  const me = cfg.servers.find((s) => s.id === cfg.myid);
  // Only from binding: an EACCES on a file (a dataDir the user may not write) is no port's fault.
  const binding = err.syscall === 'listen' || err.syscall === 'bind';
  if (binding && (err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL')) {
    const { address, port } = err as { address?: string; port?: number };
    const where = port !== undefined ? `${address}:${port}` : `${cfg.httpHost}:${cfg.httpPort}`;
    // The peer port is bound first, so an operator cannot tell from the address alone which line to fix.
    const which = me && port === me.peerPort ? `the peer port of server.${me.id}` : cfg.metricsPort !== undefined && port === cfg.metricsPort ? 'the metrics port, metricsPort' : 'the HTTP port';
    return { exit: 1, text: `cannot listen on ${where} (${which}): ${err.code}` };
  }
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EAI_NONAME' || err.code === 'EAI_FAIL') {
    const host = (err as { hostname?: string }).hostname ?? '';
    const key = host === cfg.httpHost ? 'clientPortAddress' : me && host === me.host ? `server.${me.id}` : host === cfg.metricsHost ? 'metricsHost' : 'clientPortAddress';
    return { exit: 2, text: `configuration error (${key}): cannot resolve host ${JSON.stringify(host)} to listen on (${err.code})` };
  }
  return null;
}
