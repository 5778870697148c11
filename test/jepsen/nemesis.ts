// The nemesis: on a seeded schedule, one fault at a time — partitions (majority/minority, leader
// isolation, one-way, bridge), link delay and loss, SIGKILL (any node or the leader) and restart,
// SIGSTOP/SIGCONT (longer than the session timeout), a lost disk (SIGKILL, the dataDir emptied but for myid, restart)
// — each held for a while, then healed. Bounded in count and time.
import type { Cluster } from './cluster.js';
import type { NemesisEvent } from './history.js';
import { HEALTHY } from './proxy.js';
import type { Random } from './random.js';
import { sleep } from './http.js';

export const FAULTS = ['partition', 'partition-leader', 'one-way', 'bridge', 'delay', 'loss', 'kill', 'kill-leader', 'pause', 'pause-leader', 'lose-disk'] as const;
export type Fault = (typeof FAULTS)[number];

const GROUPS: Record<string, Fault[]> = {
  all: [...FAULTS],
  partition: ['partition', 'partition-leader', 'one-way', 'bridge'],
  link: ['delay', 'loss'],
  kill: ['kill', 'kill-leader'],
  pause: ['pause', 'pause-leader'],
  disk: ['lose-disk'],
  none: [],
};

/** `all`, a group (partition, link, kill, pause, disk, none) or fault names, comma-separated. */
export function parseNemesis(spec: string): Fault[] {
  const out = new Set<Fault>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const g = GROUPS[part];
    if (g) g.forEach((f) => out.add(f));
    else if ((FAULTS as readonly string[]).includes(part)) out.add(part as Fault);
    else throw new Error(`unknown nemesis ${JSON.stringify(part)} (groups: ${Object.keys(GROUPS).join(', ')}; faults: ${FAULTS.join(', ')})`);
  }
  return [...out];
}

export interface NemesisOptions {
  faults: Fault[];
  /** Quiet time between faults, ms. */
  quietMs: [number, number];
  /** How long a fault is held, ms. */
  holdMs: [number, number];
  /** How long a pause is held: longer than the session timeout. */
  pauseMs: [number, number];
  maxFaults: number;
}

export class Nemesis {
  readonly timeline: NemesisEvent[] = [];
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly cluster: Cluster,
    private readonly rand: Random,
    private readonly now: () => number,
    private readonly o: NemesisOptions,
  ) {}

  start(untilMs: number): void {
    this.loop = this.run(untilMs);
  }

  /** Sleeps, but wakes early when the nemesis is told to stop. */
  private nap(ms: number): Promise<void> {
    return Promise.race([sleep(ms), new Promise<void>((r) => (this.wake = r))]);
  }

  private async run(untilMs: number): Promise<void> {
    for (let n = 0; n < this.o.maxFaults && !this.stopping && this.now() < untilMs && this.o.faults.length > 0; n++) {
      await this.nap(this.rand.int(...this.o.quietMs));
      if (this.stopping || this.now() >= untilMs) break;
      const fault = this.rand.pick(this.o.faults);
      const ev: NemesisEvent = { t: this.now(), fault, detail: '' };
      this.timeline.push(ev);
      const heal = await this.inject(fault, ev);
      await this.nap(fault.startsWith('pause') ? this.rand.int(...this.o.pauseMs) : this.rand.int(...this.o.holdMs));
      await heal();
      ev.end = this.now();
    }
  }

  private async target(leader: boolean): Promise<number> {
    if (leader) {
      const l = await this.cluster.leader();
      if (l !== undefined) return l;
    }
    return this.rand.pick(this.cluster.ids());
  }

  private block(a: number[], b: number[]): void {
    for (const x of a) for (const y of b) {
      this.cluster.setDirection(x, y, { ...HEALTHY, drop: true });
      this.cluster.setDirection(y, x, { ...HEALTHY, drop: true });
    }
  }

  private async inject(fault: Fault, ev: NemesisEvent): Promise<() => Promise<void>> {
    const ids = this.cluster.ids();
    const healNet = async () => this.cluster.healNetwork();
    switch (fault) {
      case 'partition': {
        const shuffled = this.rand.shuffle(ids);
        const minority = shuffled.slice(0, Math.floor((ids.length - 1) / 2) || 1);
        const majority = shuffled.filter((x) => !minority.includes(x));
        this.block(minority, majority);
        ev.detail = `minority [${minority}] | majority [${majority}]`;
        return healNet;
      }
      case 'partition-leader': {
        const l = await this.target(true);
        this.block([l], ids.filter((x) => x !== l));
        ev.detail = `leader ${l} isolated`;
        return healNet;
      }
      case 'one-way': {
        const x = this.rand.pick(ids);
        const outbound = this.rand.float() < 0.5;
        for (const y of ids) if (y !== x) this.cluster.setDirection(outbound ? x : y, outbound ? y : x, { ...HEALTHY, drop: true });
        ev.detail = outbound ? `node ${x} cannot send (hears everyone)` : `node ${x} cannot hear (sends to everyone)`;
        return healNet;
      }
      case 'bridge': {
        // Two halves that see only the bridge node, which sees both.
        const shuffled = this.rand.shuffle(ids);
        const bridge = shuffled[0] as number;
        const rest = shuffled.slice(1);
        const a = rest.slice(0, Math.ceil(rest.length / 2));
        const b = rest.slice(Math.ceil(rest.length / 2));
        this.block(a, b);
        ev.detail = `[${a}] - ${bridge} - [${b}]`;
        return healNet;
      }
      case 'delay': {
        const max = this.rand.int(20, 300);
        for (const x of ids) for (const y of ids) if (x !== y) this.cluster.setDirection(x, y, { ...HEALTHY, delayMs: [max / 4, max] });
        ev.detail = `every link delayed ${Math.round(max / 4)}-${max} ms`;
        return healNet;
      }
      case 'loss': {
        const p = 0.02 + this.rand.float() * 0.18;
        const x = this.rand.pick(ids);
        for (const y of ids) if (y !== x) {
          this.cluster.setDirection(x, y, { ...HEALTHY, loss: p });
          this.cluster.setDirection(y, x, { ...HEALTHY, loss: p });
        }
        ev.detail = `node ${x}'s links lose ${(p * 100).toFixed(0)}% of frames`;
        return healNet;
      }
      case 'kill':
      case 'kill-leader': {
        const x = await this.target(fault === 'kill-leader');
        await this.cluster.kill(x);
        ev.detail = `SIGKILL node ${x}`;
        return async () => {
          await this.cluster.startNode(x);
        };
      }
      case 'lose-disk': {
        const x = this.rand.pick(ids);
        await this.cluster.kill(x);
        this.cluster.wipe(x);
        ev.detail = `SIGKILL node ${x}, its dataDir emptied but for myid`;
        return async () => {
          await this.cluster.startNode(x);
        };
      }
      case 'pause':
      case 'pause-leader': {
        const x = await this.target(fault === 'pause-leader');
        this.cluster.pause(x);
        ev.detail = `SIGSTOP node ${x}`;
        return async () => this.cluster.resume(x);
      }
    }
  }

  /** Stops injecting, heals everything: network, paused and killed nodes. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    this.cluster.healNetwork();
    for (const id of this.cluster.ids()) {
      this.cluster.resume(id);
      if (!this.cluster.running(id)) await this.cluster.startNode(id);
    }
  }
}
