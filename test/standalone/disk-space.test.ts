// The fatal storage message names a full disk, which LMDB itself reports only as a failed commit.
import t from 'tap';
import { rmSync } from 'node:fs';
import { diskFullNote, freeSpace } from '../../server/disk-space.js';
import { tempDir } from '../helpers/server.js';

t.test('a full or nearly full filesystem is named; a roomy one, or one that cannot be read, is not', async (t) => {
  const gib = 1 << 30;
  t.equal(diskFullNote('/d', { freeBytes: 0, totalBytes: 24 << 20 }), ' (the filesystem holding /d is full: 0 bytes free)');
  t.match(diskFullNote('/d', { freeBytes: 10 << 20, totalBytes: 100 * gib }), /is full: 10485760 bytes free/, 'under 64 MiB left');
  t.match(diskFullNote('/d', { freeBytes: 500 << 20, totalBytes: 100 * gib }), /is full/, 'under 1 % left of a large disk');
  t.equal(diskFullNote('/d', { freeBytes: 2 * gib, totalBytes: 100 * gib }), '');
  t.equal(diskFullNote('/d', undefined), '');
});

t.test('the free space of a real directory is read', async (t) => {
  const dir = tempDir('disk-space-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const room = freeSpace(dir);
  t.ok(room !== undefined && room.totalBytes > 0 && room.freeBytes >= 0 && room.freeBytes <= room.totalBytes);
  t.equal(freeSpace('/no/such/dir/at/all'), undefined);
});
