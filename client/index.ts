// zkgate's TypeScript SDK (`zkgate/client`): the client, its types and errors, and the coordination recipes.
export { ZkClient, parseServers, type ClientOptions, type WatchHandle, type WatchOptions } from './client.js';
export { ZkRest, znodeUrl } from './rest.js';
export { Transport, DEFAULT_TRANSPORT, type TransportOptions, type ClientTls } from './http.js';
export { ZkClientError, isZkError } from './errors.js';
export * from './types.js';
export { Mutex, ReadWriteLock, InterProcessLock, type Held } from './recipes/lock.js';
export { Semaphore, type Lease } from './recipes/semaphore.js';
export { LeaderLatch, type LatchState } from './recipes/leader-latch.js';
export { DistributedQueue, QUEUE_PREFIX } from './recipes/queue.js';
export { DoubleBarrier } from './recipes/barrier.js';
export { SharedCounter, type VersionedValue } from './recipes/counter.js';
export { TreeCache, type CachedNode, type TreeCacheOptions } from './recipes/tree-cache.js';
