// Which browser pages may use this server. A page on any site can make its visitor's browser send requests to a
// zkgate on localhost or the LAN: a form POST needs no CORS preflight, and a WebSocket has no CORS at all. That is
// how Consul's HTTP API was driven from web pages. Browsers put an `Origin` header on such requests, so one that
// carries an Origin must come from this server's own origin or one listed in `corsAllowOrigins`. Clients that are
// not browsers (curl, the SDK, zkgate's CLI) send no Origin and are not affected.
import type { IncomingHttpHeaders } from 'node:http';
import { ConfigError } from './config-values.js';

function urlOf(s: string): URL | undefined {
  return URL.canParse(s) ? new URL(s) : undefined;
}

/** `corsAllowOrigins=https://a.example,http://localhost:3000` or `*`: origins in URL form, without a path. */
export function parseOrigins(key: string, raw: string): string[] {
  const list = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const origins = list.map((o) => {
    if (o === '*') return o;
    const origin = urlOf(o)?.origin;
    if (origin === undefined || origin === 'null' || origin !== o.toLowerCase().replace(/\/$/, '')) {
      throw new ConfigError(key, `${key}: ${JSON.stringify(o)} is not an origin (scheme://host[:port], no path), nor *`);
    }
    return origin;
  });
  if (origins.includes('*') && origins.length > 1) throw new ConfigError(key, `${key}: * allows every origin; list no others with it`);
  return origins;
}

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/** Whether `origin` names the host and port the request was sent to (Host, or X-Forwarded-Host behind a proxy). */
function sameOrigin(origin: URL, headers: IncomingHttpHeaders): boolean {
  const forwarded = headers['x-forwarded-host'];
  const hosts = [headers.host, typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined];
  const port = origin.port || DEFAULT_PORT[origin.protocol];
  return hosts.some((h) => {
    const target = h ? urlOf(`${origin.protocol}//${h}`) : undefined;
    return target !== undefined && target.hostname === origin.hostname && (target.port || DEFAULT_PORT[origin.protocol]) === port;
  });
}

/** Why a request carrying `Origin` is refused, or undefined when it may go on (no Origin, same origin, or listed). */
export function originRefusal(headers: IncomingHttpHeaders, allowed: readonly string[]): string | undefined {
  const raw = headers.origin;
  if (raw === undefined) return undefined;
  if (allowed.includes('*')) return undefined;
  const origin = raw === 'null' ? undefined : urlOf(raw);
  if (origin && (allowed.includes(origin.origin) || sameOrigin(origin, headers))) return undefined;
  const shown = JSON.stringify(raw.length > 100 ? `${raw.slice(0, 100)}…` : raw);
  return `a request from the web page origin ${shown} is refused: that origin is not this server's and not in corsAllowOrigins`;
}

/** What browsers may send and read on an allowed cross-origin request (every header the API takes or answers). */
export const CORS_REQUEST_HEADERS = ['Content-Type', 'Accept', 'Authorization', 'ZK-Session', 'ZK-Min-Zxid', 'If-Match'];
export const CORS_RESPONSE_HEADERS = [
  'ZK-Zxid',
  'ZK-Stat',
  'ETag',
  'Location',
  'Retry-After',
  'Allow',
  'Content-Disposition',
  'ZK-Snapshot-Zxid',
  'ZK-Snapshot-Znodes',
];
