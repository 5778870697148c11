// An LMDB store of its own in a temp dir for a test, closed and removed when the test ends.
import { rmSync } from 'node:fs';
import type { Test } from 'tap';
import { Store } from '../../storage/store.js';
import { tempDir } from './server.js';

export function openTestStore(tt: Test, prefix: string): { store: Store; dir: string } {
  const dir = tempDir(prefix);
  const store = Store.open({ dataDir: dir });
  tt.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, dir };
}
