// Parsing one zoo.cfg value: the errors name the key, as an operator reads it in zoo.cfg.
import { isAbsolute, resolve } from 'node:path';

export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(message);
  }
}

/**
 * The longest time a key in ms may hold: Node's timers take at most 2^31 - 1 ms and fire a longer one after 1 ms (a
 * sweep every millisecond, a snapshot answered with a timeout at once). ZooKeeper reads these keys as Java ints.
 */
export const TIMER_MAX_MS = 2_147_483_647;

export function int(key: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(key, `${key}: expected an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(key, `${key}: ${n} is out of range [${min}, ${max}]`);
  return n;
}

export function port(key: string, raw: string): number {
  return int(key, raw, 1, 65535);
}

/**
 * A file or directory; a relative one is read from zoo.cfg's folder. ZooKeeper reads dataDir from the working
 * directory instead; README says why not here (a start from another directory would find an empty data dir).
 */
export function pathValue(key: string, raw: string, baseDir: string): string {
  if (raw === '') throw new ConfigError(key, `${key}: must not be empty`);
  return isAbsolute(raw) ? raw : resolve(baseDir, raw);
}

export function bool(key: string, raw: string): boolean {
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(key, `${key}: true or false, got ${JSON.stringify(raw)}`);
  return raw === 'true';
}
