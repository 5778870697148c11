// Which browser pages may use this server. A page on any site can make its visitor's browser send requests to a
// zkgate on localhost or the LAN: a form POST needs no CORS preflight, and a WebSocket has no CORS at all. That is
// how Consul's HTTP API was driven from web pages. Browsers put an `Origin` header on such requests, so one that
// carries an Origin must come from this server's own origin or one listed in `corsAllowOrigins`. Clients that are
// not browsers (curl, the SDK, zkgate's CLI) send no Origin and are not affected.
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
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

/**
 * Whether a Host header's name can be this server's for a page's origin to count as its own: an IP literal,
 * localhost, or the address it listens on. Any other name in Host is the page's say-so: with DNS rebinding a page at
 * http://evil.example:8080 has its name point at 127.0.0.1, and its requests then carry Host and Origin both naming
 * evil.example. Such names go in corsAllowOrigins (the name a browser uses for Swagger UI on this server, say). A
 * proxy's X-Forwarded-Host is taken as it is: a page cannot add that header without a preflight, which is refused.
 */
function ownHostName(hostname: string, listenHost: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return isIP(h) !== 0 || h === 'localhost' || h === listenHost.toLowerCase();
}

/** Whether `origin` names the host and port the request was sent to (Host, or X-Forwarded-Host behind a proxy). */
function sameOrigin(origin: URL, headers: IncomingHttpHeaders, listenHost: string): boolean {
  const forwarded = headers['x-forwarded-host'];
  const hosts: [string | undefined, boolean][] = [
    [headers.host, true],
    [typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined, false],
  ];
  const port = origin.port || DEFAULT_PORT[origin.protocol];
  return hosts.some(([h, fromHost]) => {
    const target = h ? urlOf(`${origin.protocol}//${h}`) : undefined;
    if (target === undefined || target.hostname !== origin.hostname || (target.port || DEFAULT_PORT[origin.protocol]) !== port) return false;
    return !fromHost || ownHostName(target.hostname, listenHost);
  });
}

/** Why a request carrying `Origin` is refused, or undefined when it may go on (no Origin, same origin, or listed). */
export function originRefusal(headers: IncomingHttpHeaders, allowed: readonly string[], listenHost: string): string | undefined {
  const raw = headers.origin;
  if (raw === undefined) return undefined;
  if (allowed.includes('*')) return undefined;
  const origin = raw === 'null' ? undefined : urlOf(raw);
  if (origin && (allowed.includes(origin.origin) || sameOrigin(origin, headers, listenHost))) return undefined;
  const shown = JSON.stringify(raw.length > 100 ? `${raw.slice(0, 100)}…` : raw);
  return `a request from the web page origin ${shown} is refused: that origin is not this server's and not in corsAllowOrigins`;
}

/** What browsers may send and read on an allowed cross-origin request (every header the API takes or answers). */
export const CORS_REQUEST_HEADERS = ['Content-Type', 'Accept', 'Authorization', 'ZK-Session', 'ZK-Session-Epoch', 'ZK-Min-Zxid', 'If-Match'];
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
