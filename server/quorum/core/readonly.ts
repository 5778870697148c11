// The leader's queue of ReadIndex requests awaiting a quorum of heartbeat acknowledgements that
// prove it was still leader after the request arrived (etcd's ReadOnlySafe).

import assert from 'node:assert/strict';

export interface ReadRequest {
  key: string;
  ctx: Uint8Array;
  /** The commit index when the request arrived: the read may be served once this is applied. */
  index: number;
  /** Who asked: the leader itself or a follower waiting for a readIndexResp. */
  from: number;
  acks: Set<number>;
}

export function contextKey(ctx: Uint8Array): string {
  let key = '';
  for (let i = 0; i < ctx.length; i++) {
    key += ctx[i].toString(16).padStart(2, '0');
  }
  return key;
}

export class ReadOnlyQueue {
  private queue: ReadRequest[] = [];
  private readonly byKey = new Map<string, ReadRequest>();

  constructor(readonly maxPending: number) {
    assert.ok(maxPending > 0, 'maxPendingReadIndex must be positive');
  }

  size(): number {
    return this.queue.length;
  }

  full(): boolean {
    return this.queue.length >= this.maxPending;
  }

  /** False when a request with the same ctx is already pending (contexts must be unique). */
  add(index: number, ctx: Uint8Array, from: number, selfId: number): boolean {
    const key = contextKey(ctx);
    if (this.byKey.has(key)) {
      return false;
    }
    assert.ok(!this.full(), 'read queue is full');
    const request: ReadRequest = { key, ctx, index, from, acks: new Set([selfId]) };
    this.queue.push(request);
    this.byKey.set(key, request);
    return true;
  }

  /** Records that `from` acknowledged our leadership for ctx; returns the request's acks. */
  recvAck(from: number, ctx: Uint8Array): Set<number> | undefined {
    const request = this.byKey.get(contextKey(ctx));
    if (request === undefined) {
      return undefined;
    }
    request.acks.add(from);
    return request.acks;
  }

  /**
   * The request for ctx has a quorum: it and every request queued before it are confirmed,
   * because the acks were sent after all of them arrived.
   */
  advance(ctx: Uint8Array): ReadRequest[] {
    const key = contextKey(ctx);
    const position = this.queue.findIndex((request) => request.key === key);
    if (position < 0) {
      return [];
    }
    const released = this.queue.slice(0, position + 1);
    this.queue = this.queue.slice(position + 1);
    for (const request of released) {
      this.byKey.delete(request.key);
    }
    return released;
  }

  lastPendingContext(): Uint8Array | undefined {
    return this.queue.length === 0 ? undefined : this.queue[this.queue.length - 1].ctx;
  }

  reset(): void {
    this.queue = [];
    this.byKey.clear();
  }
}
