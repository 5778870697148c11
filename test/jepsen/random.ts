// Seeded randomness for the nemesis schedule and the workloads' choices (the core's sfc32 generator).
import { SeededRand } from '../../server/quorum/core/rand.js';

export class Random {
  private readonly r: SeededRand;
  constructor(readonly seed: number) {
    this.r = new SeededRand(seed);
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.r.nextUint32() / 0x100000000;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.float() * xs.length)] as T;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
  /** An independent stream for a sub-component. */
  fork(salt: number): Random {
    return new Random((this.seed * 1000003 + salt) % 2 ** 31);
  }
}
