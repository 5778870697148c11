// A standalone node whose write-ahead log was damaged before whole records (one flipped byte) refuses to start,
// exit 65 with where and how to cut, instead of cutting the acknowledged writes after it away without a word.
import t from 'tap';
import { readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnServer, tempDir } from '../helpers/server.js';
import { parseSegment, patch } from './wal-fixtures.js';

t.test('one flipped byte mid-log: the restart refuses, naming the segment and the cut; cut as told, it serves what came before', async (t) => {
  const dataDir = tempDir();
  const port = String(await freePort());
  const first = await spawnServer(['--data-dir', dataDir, '--http-port', port]);
  for (let i = 1; i <= 6; i++) {
    const r = await fetch(`${first.url}/v1/znodes/n${i}`, { method: 'POST', body: `v${i}` });
    t.equal(r.status, 201, `n${i} acknowledged`);
  }
  first.proc.kill('SIGKILL');
  await first.exited;
  const wal = join(dataDir, 'wal');
  const file = join(wal, readdirSync(wal).filter((n) => n.endsWith('.wal')).sort().pop() as string);
  const recs = parseSegment(file);
  const victim = recs[recs.length - 3] as { zxid: number; offset: number; size: number };
  const byte = readFileSync(file).subarray(victim.offset + victim.size - 1, victim.offset + victim.size);
  patch(file, victim.offset + victim.size - 1, Buffer.from([(byte[0] as number) ^ 0x01]));

  const refused = await spawnServer(['--data-dir', dataDir, '--http-port', port]);
  const { code } = await refused.exited;
  t.equal(code, 65, 'exit 65 (EX_DATAERR)');
  t.match(refused.stderr(), `write-ahead log ${file} is damaged`);
  t.match(refused.stderr(), `truncate -s ${victim.offset} ${file}`);
  t.notMatch(refused.stderr(), /\n\s+at /, 'no stack trace');

  truncateSync(file, victim.offset);
  const again = await spawnServer(['--data-dir', dataDir, '--http-port', port]);
  t.teardown(() => again.proc.kill('SIGKILL'));
  const before = await fetch(`${again.url}/v1/znodes/n1`);
  t.equal(before.status, 200, 'cut as the message says, it starts and serves the writes before the damage');
});
