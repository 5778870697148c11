// A simulated network: every message is serialised (msgpack) and delivered after a random delay,
// or dropped, or duplicated; directed links can be cut to build symmetric and one-way partitions.

import { pack, unpack } from 'msgpackr';
import type { Message } from '../../../server/quorum/core/types.js';
import type { SeededRand } from '../../../server/quorum/core/rand.js';

export interface NetworkFaults {
  dropProbability: number;
  duplicateProbability: number;
  delayMinUnits: number;
  delayMaxUnits: number;
}

interface Flight {
  deliverAt: number;
  seq: number;
  from: number;
  to: number;
  bytes: Uint8Array;
}

export type SendOutcome = 'queued' | 'dropped';

export class SimNetwork {
  private flights: Flight[] = [];
  private seq = 0;
  private readonly cut = new Set<string>();
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(private readonly rand: SeededRand, public faults: NetworkFaults) {}

  private static link(from: number, to: number): string {
    return `${from}>${to}`;
  }

  cutLink(from: number, to: number): void {
    this.cut.add(SimNetwork.link(from, to));
  }

  isCut(from: number, to: number): boolean {
    return this.cut.has(SimNetwork.link(from, to));
  }

  cutCount(): number {
    return this.cut.size;
  }

  heal(): void {
    this.cut.clear();
  }

  send(message: Message, now: number): SendOutcome {
    this.sent++;
    if (this.isCut(message.from, message.to) || this.rand.chance(this.faults.dropProbability)) {
      this.dropped++;
      return 'dropped';
    }
    // Serialising proves messages are plain data and stops any aliasing between nodes.
    const bytes = pack(message);
    this.enqueue(message, bytes, now);
    if (this.rand.chance(this.faults.duplicateProbability)) {
      this.duplicated++;
      this.enqueue(message, bytes, now);
    }
    return 'queued';
  }

  private enqueue(message: Message, bytes: Uint8Array, now: number): void {
    const { delayMinUnits, delayMaxUnits } = this.faults;
    const delay = delayMinUnits + this.rand.intn(delayMaxUnits - delayMinUnits + 1);
    this.flights.push({ deliverAt: now + delay, seq: this.seq++, from: message.from, to: message.to, bytes });
  }

  /**
   * Drops every message to or from `id`: a process restarted on a new disk gets nothing sent to the one before it,
   * as the real transport drops what it cannot send on a link that is down (server/quorum/transport.ts).
   */
  forget(id: number): void {
    this.flights = this.flights.filter((f) => f.from !== id && f.to !== id);
  }

  /** Messages due by `now`, in a random order (reordering beyond what delays already cause). */
  due(now: number): Message[] {
    const ready: Flight[] = [];
    const waiting: Flight[] = [];
    for (const flight of this.flights) {
      (flight.deliverAt <= now ? ready : waiting).push(flight);
    }
    this.flights = waiting;
    for (let i = ready.length - 1; i > 0; i--) {
      const j = this.rand.intn(i + 1);
      [ready[i], ready[j]] = [ready[j], ready[i]];
    }
    return ready.map((flight) => unpack(flight.bytes) as Message);
  }

  inFlight(): number {
    return this.flights.length;
  }
}
