// The mark a member that started with an empty consensus log keeps in its dataDir (server/quorum/empty-start.ts).
import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearEmptyStart, readEmptyStart, writeEmptyStart } from '../../server/quorum/empty-start.js';

function dataDir(t: { teardown(fn: () => unknown): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'zkgate-empty-start-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('written, read back, replaced whole and cleared', async (t) => {
  const d = dataDir(t);
  t.equal(readEmptyStart(d), null, 'no mark');
  writeEmptyStart(d, 'unheard');
  t.equal(readEmptyStart(d), 'unheard');
  writeEmptyStart(d, { index: 143, term: 12 });
  t.same(readEmptyStart(d), { index: 143, term: 12 });
  t.same(readdirSync(d), ['catching-up-from-empty'], 'no temporary file left beside it');
  clearEmptyStart(d);
  t.equal(readEmptyStart(d), null);
  clearEmptyStart(d);
  t.pass('clearing twice is fine');
});

t.test('a mark that is not the JSON of a target reads as unheard, the careful state', async (t) => {
  const d = dataDir(t);
  for (const text of ['', 'garbage', '{"index":"1","term":2}', '{"index":1.5,"term":2}', 'null']) {
    writeFileSync(join(d, 'catching-up-from-empty'), text);
    t.equal(readEmptyStart(d), 'unheard', JSON.stringify(text));
  }
});

t.test('a mark that cannot be read stops the start rather than reading as none', async (t) => {
  const d = dataDir(t);
  mkdirSync(join(d, 'catching-up-from-empty'));
  t.throws(() => readEmptyStart(d), { code: 'EISDIR' });
});
