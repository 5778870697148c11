// The scripted (non-random) harness behind the datadriven scenario tests: nodes on MemoryStorage
// with fixed election timeouts, a message queue the script delivers explicitly, and a text
// rendering of every Ready, message and log, in the spirit of etcd-io/raft's interaction tests.

import assert from 'node:assert/strict';
import { RawNode } from '../../../server/quorum/core/rawnode.js';
import { FixedRand } from '../../../server/quorum/core/rand.js';
import { MemoryStorage } from '../../../server/quorum/core/storage.js';
import type { Entry, Message, Ready, Snapshot } from '../../../server/quorum/core/types.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const MAX_STABILIZE_ROUNDS = 100;

export interface Command {
  name: string;
  positional: string[];
  named: Map<string, string>;
}

export function parseCommand(line: string): Command {
  const [name, ...rest] = line.trim().split(/\s+/);
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const token of rest) {
    const eq = token.indexOf('=');
    if (eq > 0) {
      named.set(token.slice(0, eq), token.slice(eq + 1));
    } else {
      positional.push(token);
    }
  }
  return { name, positional, named };
}

function text(data: Uint8Array): string {
  return JSON.stringify(decoder.decode(data));
}

export function formatEntry(entry: Entry): string {
  const data = entry.type === 'normal' ? ` ${text(entry.data)}` : '';
  return `${entry.term}/${entry.index} ${entry.type}${data}`;
}

function formatSnapshot(snapshot: Snapshot): string {
  const { index, term, voters, learners } = snapshot.metadata;
  const learnerText = learners.length > 0 ? ` learners=[${learners.join(',')}]` : '';
  return `index=${index} term=${term} voters=[${voters.join(',')}]${learnerText} data=${text(snapshot.data)}`;
}

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'app':
      return `${head} log=${m.logTerm}/${m.index} commit=${m.commit}` +
        (m.entries.length > 0 ? ` entries=[${m.entries.map(formatEntry).join(', ')}]` : '');
    case 'appResp':
      return m.reject ? `${head} rejected=${m.index} hint=${m.logTerm}/${m.rejectHint}` : `${head} index=${m.index}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}` + (m.ctx.length > 0 ? ` ctx=${text(m.ctx)}` : '');
    case 'heartbeatResp':
      return head + (m.ctx.length > 0 ? ` ctx=${text(m.ctx)}` : '');
    case 'vote':
    case 'preVote':
      return `${head} last=${m.logTerm}/${m.index}` + (m.transfer ? ' transfer' : '');
    case 'voteResp':
    case 'preVoteResp':
      return `${head} ${m.reject ? 'rejected' : 'granted'}`;
    case 'snap':
      return `${head} snapshot ${formatSnapshot(m.snapshot)}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx=${text(m.ctx)}`;
    case 'readIndexResp':
      return `${head} index=${m.index} ctx=${text(m.ctx)}`;
  }
}

interface ScriptNode {
  raw: RawNode;
  storage: MemoryStorage;
  applied: Entry[];
}

export class InteractionEnv {
  private readonly nodes = new Map<number, ScriptNode>();
  private queue: Message[] = [];
  private readonly isolated = new Set<number>();
  private voters: number[] = [];
  private learners: number[] = [];
  private options = { preVote: true, checkQuorum: true, maxInflightMsgs: 256, maxSizePerMsg: 1024 * 1024, maxUncommittedBytes: 1 << 20 };

  run(command: Command): string {
    const out: string[] = [];
    const ids = command.positional.map(Number);
    switch (command.name) {
      case 'add-nodes':
        this.addNodes(command);
        return 'ok';
      case 'campaign':
        this.node(ids[0]).raw.campaign();
        return 'ok';
      case 'tick-election':
      case 'tick-heartbeat': {
        const ticks = command.name === 'tick-election' ? 10 : 1;
        for (const id of ids) {
          for (let i = 0; i < ticks; i++) {
            this.node(id).raw.tick();
          }
        }
        return 'ok';
      }
      case 'propose': {
        const datas = command.positional.slice(1).map((value) => encoder.encode(value));
        return JSON.stringify(this.node(ids[0]).raw.propose(datas));
      }
      case 'read-index':
        return JSON.stringify(this.node(ids[0]).raw.readIndex(encoder.encode(command.positional[1])));
      case 'transfer-leadership':
        return JSON.stringify(this.node(ids[0]).raw.transferLeadership(ids[1]));
      case 'process-ready':
        for (const id of this.targets(ids)) {
          this.processReady(id, out);
        }
        return out.length > 0 ? out.join('\n') : 'ok';
      case 'deliver-msgs':
        for (const id of this.targets(ids)) {
          this.deliver(id, command.named.get('drop') === 'true', out);
        }
        return out.length > 0 ? out.join('\n') : 'ok';
      case 'stabilize':
        this.stabilize(this.targets(ids), out);
        return out.length > 0 ? out.join('\n') : 'ok';
      case 'status':
        return this.status(ids[0]);
      case 'raft-log':
        return this.raftLog(ids[0]);
      case 'raft-state':
        return [...this.nodes.keys()].map((id) => this.stateLine(id)).join('\n');
      case 'applied':
        return this.node(ids[0]).applied.map(formatEntry).join('\n') || '(none)';
      case 'compact':
        return this.compact(ids[0], Number(command.positional[1]));
      case 'isolate':
        this.isolated.add(ids[0]);
        return 'ok';
      case 'heal':
        if (ids.length > 0) {
          this.isolated.delete(ids[0]);
        } else {
          this.isolated.clear();
        }
        return 'ok';
      case 'restart':
        return this.restart(ids[0]);
      default:
        throw new Error(`unknown command ${command.name}`);
    }
  }

  private addNodes(command: Command): void {
    const list = (key: string): number[] =>
      (command.named.get(key) ?? '').split(',').filter((s) => s.length > 0).map(Number);
    this.voters = list('voters');
    this.learners = list('learners');
    const flag = (key: string, fallback: boolean): boolean => (command.named.get(key) ?? String(fallback)) === 'true';
    this.options.preVote = flag('prevote', true);
    this.options.checkQuorum = flag('checkquorum', true);
    this.options.maxInflightMsgs = Number(command.named.get('max-inflight') ?? 256);
    this.options.maxSizePerMsg = Number(command.named.get('max-size') ?? 1024 * 1024);
    this.options.maxUncommittedBytes = Number(command.named.get('max-uncommitted') ?? 1 << 20);
    for (const id of [...this.voters, ...this.learners]) {
      const storage = new MemoryStorage();
      this.nodes.set(id, { raw: this.newRawNode(id, storage, 0), storage, applied: [] });
    }
  }

  private newRawNode(id: number, storage: MemoryStorage, applied: number): RawNode {
    return new RawNode(
      {
        id,
        voters: this.voters,
        learners: this.learners,
        electionTicks: 10,
        heartbeatTicks: 1,
        applied,
        rand: new FixedRand(),
        ...this.options,
      },
      storage,
    );
  }

  private node(id: number): ScriptNode {
    const node = this.nodes.get(id);
    assert.ok(node !== undefined, `no node ${id}`);
    return node;
  }

  private targets(ids: number[]): number[] {
    return ids.length > 0 ? ids : [...this.nodes.keys()];
  }

  private processReady(id: number, out: string[]): boolean {
    const node = this.node(id);
    if (!node.raw.hasReady()) {
      return false;
    }
    const ready = node.raw.ready();
    out.push(`> ${id} handling Ready`);
    this.describeReady(ready, out);
    // Persist (snapshot, entries, hard state), send, apply, advance: the contract's order.
    if (ready.snapshot !== null) {
      node.storage.applySnapshot(ready.snapshot);
    }
    node.storage.append(ready.entries);
    if (ready.hardState !== null) {
      node.storage.setHardState(ready.hardState);
    }
    for (const message of ready.messages) {
      // Messages to or from an isolated node never enter the network.
      if (!this.isolated.has(message.from) && !this.isolated.has(message.to)) {
        this.queue.push(message);
      }
    }
    node.applied.push(...ready.committedEntries);
    node.raw.advance(ready);
    return true;
  }

  private describeReady(ready: Ready, out: string[]): void {
    if (ready.softState !== null) {
      out.push(`  soft: role=${ready.softState.role} lead=${ready.softState.leaderId}`);
    }
    if (ready.hardState !== null) {
      const { term, vote, commit, history } = ready.hardState;
      const h = history !== undefined ? ` history=${history}` : '';
      out.push(`  hard: term=${term} vote=${vote} commit=${commit}${h}${ready.mustSync ? '' : ' (no sync)'}`);
    }
    if (ready.snapshot !== null) {
      out.push(`  snapshot: ${formatSnapshot(ready.snapshot)}`);
    }
    if (ready.entries.length > 0) {
      out.push(`  entries: ${ready.entries.map(formatEntry).join(', ')}`);
    }
    if (ready.committedEntries.length > 0) {
      out.push(`  committed: ${ready.committedEntries.map(formatEntry).join(', ')}`);
    }
    for (const readState of ready.readStates) {
      out.push(`  read-state: index=${readState.index} ctx=${text(readState.ctx)}`);
    }
    for (const message of ready.messages) {
      const cut = this.isolated.has(message.from) || this.isolated.has(message.to);
      out.push(`  send ${formatMessage(message)}${cut ? ' (isolated: dropped)' : ''}`);
    }
  }

  private deliver(id: number, drop: boolean, out: string[]): boolean {
    const mine = this.queue.filter((m) => m.to === id);
    if (mine.length === 0) {
      return false;
    }
    this.queue = this.queue.filter((m) => m.to !== id);
    for (const message of mine) {
      const cut = this.isolated.has(message.from) || this.isolated.has(message.to);
      if (drop || cut) {
        out.push(`  dropped ${formatMessage(message)}`);
        continue;
      }
      out.push(`  deliver ${formatMessage(message)}`);
      this.node(id).raw.step(message);
      if (message.type === 'snap') {
        this.node(message.from).raw.reportSnapshot(id, true);
      }
    }
    return true;
  }

  private stabilize(ids: number[], out: string[]): void {
    for (let round = 0; round < MAX_STABILIZE_ROUNDS; round++) {
      let busy = false;
      for (const id of ids) {
        busy = this.processReady(id, out) || busy;
      }
      for (const id of ids) {
        busy = this.deliver(id, false, out) || busy;
      }
      if (!busy) {
        return;
      }
    }
    throw new Error('stabilize did not settle');
  }

  private stateLine(id: number): string {
    const s = this.node(id).raw.status();
    return `${id}: ${s.role} term=${s.term} lead=${s.leaderId} commit=${s.commit} applied=${s.applied} last=${s.lastIndex}`;
  }

  private status(id: number): string {
    const lines = [this.stateLine(id)];
    if (this.node(id).raw.status().role === 'leader') {
      lines.push(...this.node(id).raw.describeProgress());
    }
    return lines.join('\n');
  }

  private raftLog(id: number): string {
    const node = this.node(id);
    const first = node.storage.firstIndex();
    const last = node.storage.lastIndex();
    if (last < first) {
      return `(empty; snapshot at ${first - 1})`;
    }
    return node.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER).map(formatEntry).join('\n');
  }

  private compact(id: number, index: number): string {
    const node = this.node(id);
    node.storage.createSnapshot(index, { voters: this.voters, learners: this.learners }, encoder.encode(`state@${index}`));
    node.storage.compact(index);
    return `snapshot at ${index}; log now starts at ${node.storage.firstIndex()}`;
  }

  /** Drops volatile state and messages in flight from/to the node; rebuilds it from storage. */
  private restart(id: number): string {
    const node = this.node(id);
    const snapshotIndex = node.storage.snapshot().metadata.index;
    node.raw = this.newRawNode(id, node.storage, snapshotIndex);
    node.applied = [];
    this.queue = this.queue.filter((m) => m.to !== id);
    return this.stateLine(id);
  }
}
