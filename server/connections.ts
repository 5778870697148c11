// Open client connections (HTTP keep-alive and upgraded WebSockets) with ZooKeeper's per-connection stats,
// for the `cons` and `stat` admin endpoints and the zkgate_ws_connections gauge; ZooKeeper's maxClientCnxns,
// the bound on connections open from one client address; and the bound on one connection's unanswered requests.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { ConnectionThrottle, pendingOn } from './connection-throttle.js';
import { answeredInOrder } from './request-order.js';

export interface ConnectionStats {
  id: number;
  remoteAddress: string;
  remotePort: number;
  kind: 'http' | 'ws';
  establishedAt: number;
  requests: number;
  /** Requests whose latency is in the figures below (not long-polls). */
  timed: number;
  lastOp: string;
  lastSessionId: string;
  lastResponseAt: number;
  lastLatencyMs: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  totalLatencyMs: number;
}

export interface ClientLimit {
  /** Connections one client address may have open (0: no bound). */
  maxPerAddress: number;
  /** Told of each connection closed on arrival because its address had maxPerAddress open. */
  onRefused: (address: string) => void;
  /** Told of each connection the server closed on arrival because it had its maxConnections open. */
  onDropped: (address: string | undefined) => void;
}

export class ConnectionRegistry {
  private readonly open = new Map<Socket, ConnectionStats>();
  /** maxPendingPerConnection: the server's listener hands it every request, its ServerResponse every answer. */
  readonly throttle: ConnectionThrottle;
  private readonly perAddress = new Map<string, number>();
  private nextId = 1;
  private ws = 0;

  /** Connections closed at once because the server had maxCnxns open (zkgate_connections_dropped_total). */
  dropped = 0;
  /** Connections closed because they took none of their answers' bytes for httpRequestTimeoutMs (request-order.ts). */
  stalled = 0;
  /** Connections closed at once because their address had maxClientCnxns open. */
  refusedPerAddress = 0;

  constructor(maxPendingPerConnection: number, onThrottle: (sock: Socket) => void) {
    this.throttle = new ConnectionThrottle(maxPendingPerConnection, onThrottle, answeredInOrder);
  }

  /**
   * Follows every socket the server accepts until it closes; marks upgraded ones as WebSockets. On a TLS server the
   * requests and upgrades arrive on the TLS socket, not on the TCP one the server accepted, so that is the one kept.
   */
  attach(server: Server, limit: ClientLimit): void {
    // net.Server closes a connection past maxConnections before any byte is read, and says so only by this event.
    server.on('drop', (d?: { remoteAddress?: string }) => {
      this.dropped++;
      limit.onDropped(d?.remoteAddress);
    });
    const tls = server instanceof TlsServer;
    // Counted on the TCP connection, so that a refused one costs no TLS handshake; and only when bounded, so that
    // the default costs no listener per connection (10,000 WebSockets each carry every listener).
    server.on('connection', (sock: Socket) => {
      let address: string | undefined;
      if (limit.maxPerAddress > 0) {
        address = sock.remoteAddress ?? '';
        const n = this.perAddress.get(address) ?? 0;
        if (n >= limit.maxPerAddress) {
          this.refusedPerAddress++;
          sock.destroy();
          limit.onRefused(address);
          return;
        }
        this.perAddress.set(address, n + 1);
      }
      if (!tls) this.follow(sock, address);
      else if (address !== undefined) sock.once('close', () => this.release(address));
    });
    if (tls) server.on('secureConnection', (sock: Socket) => this.follow(sock, undefined));
    server.on('upgrade', (_req, sock: Socket) => {
      const c = this.open.get(sock);
      if (c && c.kind === 'http') {
        c.kind = 'ws';
        this.ws++;
      }
    });
  }

  /** One connection fewer from `address`. */
  private release(address: string): void {
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }

  /** Keeps `sock`'s stats until it closes, and then gives back its address's slot (`address`, when counted). */
  private follow(sock: Socket, address: string | undefined): void {
    const c: ConnectionStats = {
      id: this.nextId++,
      remoteAddress: sock.remoteAddress ?? '',
      remotePort: sock.remotePort ?? 0,
      kind: 'http',
      establishedAt: Date.now(),
      requests: 0,
      timed: 0,
      lastOp: '',
      lastSessionId: '',
      lastResponseAt: 0,
      lastLatencyMs: 0,
      minLatencyMs: 0,
      maxLatencyMs: 0,
      totalLatencyMs: 0,
    };
    this.open.set(sock, c);
    sock.once('close', () => {
      const gone = this.open.get(sock);
      if (gone?.kind === 'ws') this.ws--;
      this.open.delete(sock);
      if (address !== undefined) this.release(address);
    });
  }

  /** One answered request on `sock`; called from the response hook, so it allocates nothing. */
  record(sock: Socket, op: string, latencyMs: number | undefined, sessionId: string | undefined): void {
    const c = this.open.get(sock);
    if (!c) return;
    c.requests++;
    // A long-poll (latencyMs undefined) counts as a request but not in the latencies: see metrics.ts isLongPoll.
    if (latencyMs !== undefined) {
      if (c.timed === 0 || latencyMs < c.minLatencyMs) c.minLatencyMs = latencyMs;
      if (latencyMs > c.maxLatencyMs) c.maxLatencyMs = latencyMs;
      c.timed++;
      c.totalLatencyMs += latencyMs;
      c.lastLatencyMs = latencyMs;
    }
    c.lastOp = op;
    c.lastResponseAt = Date.now();
    if (sessionId) c.lastSessionId = sessionId;
  }

  get size(): number {
    return this.open.size;
  }

  get wsCount(): number {
    return this.ws;
  }

  /** At most `limit` connections, oldest first. */
  list(limit: number): (ConnectionStats & { outstanding: number })[] {
    const out: (ConnectionStats & { outstanding: number })[] = [];
    for (const [sock, c] of this.open) {
      if (out.length >= limit) break;
      // Requests read and not yet answered (ZooKeeper's `queued`): the throttle keeps that count on the socket.
      out.push({ ...c, outstanding: pendingOn(sock) });
    }
    return out;
  }
}
