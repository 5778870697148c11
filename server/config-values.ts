// Parsing one zoo.cfg value: the errors name the key, as an operator reads it in zoo.cfg.

export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(message);
  }
}

export function int(key: string, raw: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(key, `${key}: expected an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(key, `${key}: ${n} is out of range [${min}, ${max}]`);
  return n;
}

export function port(key: string, raw: string): number {
  return int(key, raw, 1, 65535);
}
