// The base every model command extends: it keeps the request last sent, so that a counterexample shows what
// actually went over the wire.
import type fc from 'fast-check';
import type { Real } from './real.js';
import type { Model } from './zk-model.js';

// ---------------------------------------------------------------------------------------------------------------
// Commands

export abstract class Cmd implements fc.AsyncCommand<Model, Real> {
  /** The request as it was last sent, for the counterexample. */
  protected sent = '';
  check(_m: Readonly<Model>): boolean {
    return true;
  }
  abstract run(m: Model, r: Real): Promise<void>;
  abstract describe(): string;
  toString(): string {
    return this.describe() + (this.sent ? ` {${this.sent}}` : '');
  }
  protected ctx(): string {
    return this.toString();
  }
}
