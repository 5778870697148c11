// LeaderLatch (Curator): every candidate joins with an ephemeral sequential node; the lowest leads and each other
// candidate watches only its predecessor. Leadership is reported as lost as soon as the connection is (a partitioned
// leader cannot know whether its session still lives), and regained on reconnect if its node is still the lowest.
import { EventEmitter } from 'node:events';
import type { ZkClient } from '../client.js';
import { isZkError } from '../errors.js';
import type { ConnectionState } from '../types.js';
import { deleteQuietly, joinPath, retrying, seqOf, sleep, sortBySeq, until } from './common.js';
import { enqueueNode, exclusive } from './lock.js';

export type LatchState = 'latent' | 'started' | 'closed';

/** Events: 'isLeader', 'notLeader', 'error' (Error). */
export class LeaderLatch extends EventEmitter {
  private leader = false;
  private node: string | undefined;
  private latchState: LatchState = 'latent';
  private wake: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private runner: Promise<void> | undefined;
  /** start()'s work, which close() waits for: a node it creates after the latch closed is deleted, not left behind. */
  private starting: Promise<void> | undefined;

  constructor(
    private readonly client: ZkClient,
    readonly path: string,
    /** Stored in the candidate's node, so others can see who leads (getLeader). */
    readonly id = '',
  ) {
    super();
  }

  get state(): LatchState {
    return this.latchState;
  }

  hasLeadership(): boolean {
    return this.leader && this.client.state === 'SyncConnected';
  }

  /** This candidate's node, once it has one. */
  get nodePath(): string | undefined {
    return this.node;
  }

  async start(): Promise<void> {
    if (this.latchState !== 'latent') return;
    this.latchState = 'started';
    this.unsubscribe = this.client.onState((s) => this.onConnection(s));
    this.starting = this.join();
    await this.starting;
  }

  private async join(): Promise<void> {
    const node = await this.enqueue();
    if (node === undefined) return;
    this.node = node;
    this.runner = this.run();
  }

  /** A new candidate node; undefined (and none left behind) when the latch was closed while it was being created. */
  private async enqueue(): Promise<string | undefined> {
    const node = await enqueueNode(this.client, this.path, 'latch-', this.id);
    if (this.latchState === 'started') return node;
    await this.dropNode(node);
    return undefined;
  }

  private async dropNode(node: string): Promise<void> {
    if (this.client.state !== 'Expired' && this.client.state !== 'Closed') await deleteQuietly(this.client, node).catch(() => {});
  }

  /** Resolves true once leader, false after `timeoutMs` or when the latch closes first. */
  async await(timeoutMs?: number): Promise<boolean> {
    if (this.hasLeadership()) return true;
    if (this.latchState === 'closed') return false;
    let cleanup = () => {};
    const became = new Promise<boolean>((resolve) => {
      const onLeader = () => resolve(true);
      const onClosed = () => resolve(false);
      cleanup = () => {
        this.off('isLeader', onLeader);
        this.off('closed', onClosed);
      };
      this.on('isLeader', onLeader);
      this.on('closed', onClosed);
    });
    try {
      const r = await until(became, timeoutMs === undefined ? Infinity : Date.now() + timeoutMs);
      return r === true;
    } finally {
      // A call that timed out too: polling await(ms) in a loop must not pile listeners up.
      cleanup();
    }
  }

  /** The current leader's id and node, read from the server (null when there are no candidates). */
  async getLeader(): Promise<{ id: string; path: string } | null> {
    const { children } = await this.client.getChildren(this.path);
    for (const name of sortBySeq(children)) {
      try {
        const p = joinPath(this.path, name);
        return { id: (await this.client.getString(p)).data, path: p };
      } catch (e) {
        if (!isZkError(e, 'NoNode')) throw e;
      }
    }
    return null;
  }

  /** Leaves the election: deletes this candidate's node (the next one takes over). */
  async close(): Promise<void> {
    if (this.latchState === 'closed') return;
    this.latchState = 'closed';
    this.unsubscribe?.();
    this.setLeader(false);
    this.wake?.();
    const node = this.node;
    this.node = undefined;
    if (node) await this.dropNode(node);
    await this.starting?.catch(() => {});
    await this.runner;
    this.emit('closed');
  }

  private setLeader(v: boolean): void {
    if (this.leader === v || (v && this.latchState !== 'started')) return;
    this.leader = v;
    this.emit(v ? 'isLeader' : 'notLeader');
  }

  private onConnection(s: ConnectionState): void {
    if (s !== 'SyncConnected') this.setLeader(false);
    if (s === 'Expired' || s === 'Closed') {
      this.latchState = 'closed';
      this.emit('closed');
    }
    this.wake?.();
  }

  /** Re-checks the candidate list whenever the predecessor goes, our own node goes, or the connection changes. */
  private async run(): Promise<void> {
    while (this.latchState === 'started' && this.node) {
      const ours = this.node;
      const changed = new Promise<void>((r) => (this.wake = r));
      try {
        await this.client.waitConnected();
        const { children } = await retrying(this.client, () => this.client.getChildren(this.path));
        const ordered = sortBySeq(children);
        const name = ours.slice(this.path.length + 1);
        if (!ordered.includes(name)) {
          this.setLeader(false);
          if (this.client.state === 'SyncConnected' && this.latchState === 'started') {
            // Deleted by someone else while our session lives: rejoin at the back, as Curator's reset does.
            this.node = await this.enqueue();
          }
          continue;
        }
        const d = exclusive(ordered, name);
        // The leader watches its own node; a candidate its predecessor. Either way one watch, one waiter.
        const target = d.held ? ours : joinPath(this.path, d.waitFor);
        const { state, fired } = await this.client.watchOnce(target, 'exists');
        if (state.stat === null) {
          state.cancel();
          continue;
        }
        // Only while this node is still the latch's: close() may have begun during the awaits above, and a closed
        // latch that said isLeader would lead beside the candidate that really does.
        if (d.held && seqOf(name) >= 0 && this.client.state === 'SyncConnected' && this.latchState === 'started' && this.node === ours) this.setLeader(true);
        await Promise.race([fired.then(() => undefined, () => undefined), changed]);
        state.cancel();
      } catch (e) {
        if (this.latchState !== 'started') return;
        if (isZkError(e, 'SessionExpired')) {
          this.setLeader(false);
          return;
        }
        if (!isZkError(e, 'ConnectionLoss') && this.listenerCount('error') > 0) this.emit('error', e);
        await sleep(100);
      }
    }
  }
}
