// Writes openapi/openapi.json from a running in-memory server, so the committed spec is exactly what is served.
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../server/config.js';
import { makeLogger, startServer } from '../server/main.js';

export async function servedSpec(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), 'zkgate-openapi-'));
  const cfg = { ...defaultConfig(), dataDir, httpPort: 0, logLevel: 'silent' };
  const s = await startServer(cfg, makeLogger('silent'));
  try {
    const r = await fetch(`${s.url}/openapi.json`);
    return await r.json();
  } finally {
    await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function stableJson(v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n';
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const out = new URL('../../openapi/openapi.json', import.meta.url);
  writeFileSync(out, stableJson(await servedSpec()));
  process.stdout.write(`wrote ${out.pathname}\n`);
}
