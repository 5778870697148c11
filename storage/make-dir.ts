// mkdir -p that cannot hang. Node's own recursive mkdirSync loops for ever where mkdir fails with ENOENT under a
// parent that exists (procfs: `dataDir=/proc/x`, `auditLogFile=/proc/x/audit.log`), so a mistyped path froze the
// start instead of exiting 2 naming its key. Here each missing level is made on its own, and any failure throws.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function makeDir(dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (e) {
      // Made meanwhile by another process: fine if it is a directory.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(p).isDirectory()) throw e;
    }
  }
}
