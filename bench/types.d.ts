// Minimal type declarations for the two untyped load-generator libraries the benchmark drives.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  export interface Request {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }
  export interface RequestSpec extends Request {
    setupRequest?: (req: Request, context: Record<string, unknown>) => Request;
  }
  export interface Options {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    requests?: RequestSpec[];
    workers?: number;
  }
  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9: number;
  }
  export interface Result {
    latency: Histogram;
    requests: Histogram & { sent: number };
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
  }
  export interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void;
  }
  function autocannon(opts: Options): Instance;
  export default autocannon;
}

declare module 'node-zookeeper-client' {
  export interface Stat {
    version: number;
  }
  export interface Exception extends Error {
    getCode(): number;
  }
  export interface Client {
    connect(): void;
    close(): void;
    once(event: 'connected' | 'disconnected' | 'expired', cb: () => void): void;
    create(path: string, data: Buffer, cb: (err: Exception | null, path: string) => void): void;
    setData(path: string, data: Buffer, version: number, cb: (err: Exception | null, stat: Stat) => void): void;
    getData(path: string, cb: (err: Exception | null, data: Buffer, stat: Stat) => void): void;
    mkdirp(path: string, cb: (err: Exception | null, path: string) => void): void;
  }
  export function createClient(connectionString: string, options?: { sessionTimeout?: number; spinDelay?: number; retries?: number }): Client;
  const zk: { createClient: typeof createClient };
  export default zk;
}
