// Seeded pseudo-random source injected through Config, so that election timeouts (the core's only
// randomness) replay exactly from a seed. The core uses no ambient randomness and reads no clock.

import assert from 'node:assert/strict';

export interface Rand {
  /** A uniformly distributed integer in [0, bound). */
  intn(bound: number): number;
}

/**
 * sfc32: small, fast and statistically sound for simulation; not for cryptography.
 * The seed is expanded with splitmix32 so that nearby seeds give unrelated streams.
 */
export class SeededRand implements Rand {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    assert.ok(Number.isSafeInteger(seed), 'seed must be a safe integer');
    let state = (seed ^ Math.floor(seed / 0x100000000)) >>> 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) {
      this.nextUint32();
    }
  }

  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.nextUint32() / 0x100000000;
  }

  intn(bound: number): number {
    assert.ok(Number.isSafeInteger(bound) && bound > 0, 'bound must be a positive integer');
    return Math.floor(this.float() * bound);
  }

  chance(probability: number): boolean {
    return this.float() < probability;
  }
}

/** Always the lowest value: makes election timeouts exactly electionTicks in scripted tests. */
export class FixedRand implements Rand {
  intn(bound: number): number {
    assert.ok(bound > 0, 'bound must be positive');
    return 0;
  }
}
