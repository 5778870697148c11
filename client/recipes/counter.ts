// SharedCount (Curator): an integer in a znode's data. trySetCount is compare-and-set on the znode version; add()
// loops on it (bounded). start() keeps the value current through a persistent watch and emits 'change'.
import { EventEmitter } from 'node:events';
import type { ZkClient, WatchHandle } from '../client.js';
import { isZkError, ZkClientError } from '../errors.js';
import { sleep } from './common.js';

export interface VersionedValue {
  value: number;
  version: number;
}

function parse(path: string, data: Uint8Array): number {
  const text = new TextDecoder().decode(data).trim();
  if (text === '') return 0;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new ZkClientError('MarshallingError', `${path} does not hold an integer: ${JSON.stringify(text.slice(0, 40))}`, { path });
  return n;
}

/** Events: 'change' (VersionedValue). */
export class SharedCounter extends EventEmitter {
  private watch: WatchHandle | undefined;
  private last: VersionedValue | undefined;

  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    readonly initial = 0,
  ) {
    super();
  }

  /** Creates the node with the initial value when missing (and its parents). */
  async ensure(): Promise<void> {
    try {
      await this.client.create(this.path, String(this.initial), { parents: true });
    } catch (e) {
      if (!isZkError(e, 'NodeExists')) throw e;
    }
  }

  async get(): Promise<VersionedValue> {
    const r = await this.client.getData(this.path);
    return { value: parse(this.path, r.data), version: r.stat.version };
  }

  /** Sets `value` only if the node is still at `previous.version`; false when someone changed it first. */
  async trySetCount(previous: VersionedValue, value: number): Promise<boolean> {
    try {
      await this.client.setData(this.path, String(value), previous.version);
      return true;
    } catch (e) {
      if (isZkError(e, 'BadVersion')) return false;
      throw e;
    }
  }

  /** Adds `delta` atomically (CAS retried up to `maxAttempts` times) and returns the new value. */
  async add(delta: number, maxAttempts = 1000): Promise<number> {
    for (let i = 0; i < maxAttempts; i++) {
      const cur = await this.get();
      if (await this.trySetCount(cur, cur.value + delta)) return cur.value + delta;
      // Back off a little under contention, so CAS rounds do not collide in lockstep.
      if (i > 2) await sleep(Math.random() * Math.min(50, i * 2));
    }
    throw new ZkClientError('OperationTimeout', `add(${delta}) on ${this.path} lost ${maxAttempts} CAS rounds`, { path: this.path });
  }

  /** The value as of the last change seen (after start()). */
  get current(): VersionedValue | undefined {
    return this.last;
  }

  /** Follows the value: a persistent watch; every change re-reads and emits 'change'. */
  async start(): Promise<VersionedValue> {
    await this.ensure();
    const refresh = async () => {
      try {
        const v = await this.get();
        if (!this.last || v.version !== this.last.version) {
          this.last = v;
          this.emit('change', v);
        }
      } catch (e) {
        if (!isZkError(e, 'NoNode') && this.listenerCount('error') > 0) this.emit('error', e);
      }
    };
    this.watch = await this.client.watch(this.path, 'persistent', (e) => {
      if (e.type === 'NodeDataChanged' || e.type === 'NodeCreated') void refresh();
    }, { onResync: () => void refresh() });
    await refresh();
    return this.last as VersionedValue;
  }

  close(): void {
    this.watch?.cancel();
    this.watch = undefined;
  }
}
