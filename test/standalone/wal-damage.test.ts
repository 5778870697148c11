// The write-ahead log on real files left damaged by a crash or corruption (a torn tail, garbage, a record failing its
// checksum, a segment of zeros) returns exactly the whole records before the damage, and the rest never resurface.
import t from 'tap';
import { closeSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Wal } from '../../storage/wal.js';
import { WalDamaged } from '../../storage/wal-damaged.js';
import { all, dir, onlySegment, onlyZerosFrom, parseSegment, patch, range, rec, segFiles, seq, zxids, type Val } from './wal-fixtures.js';

t.test('a torn tail (truncated last record) is cut at open; appends go on from the last whole record', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  await w.append(range(1, 3));
  await w.append(range(4, 5, () => ({ pad: 'old'.repeat(40) })));
  await w.close();
  const file = onlySegment(t, d);
  const recs = parseSegment(file);
  const fifth = recs[4] as { offset: number; size: number };
  // The write of record 5 reached the disk only in part.
  truncateSync(file, fifth.offset + fifth.size - 9);

  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, 4, 'the log ends at the last whole record');
  t.same(zxids(all(r).records), [1, 2, 3, 4]);
  t.ok(onlyZerosFrom(file, fifth.offset), 'the torn bytes are gone from the file (cut; what follows is zero-filled ahead)');
  await r.append([rec(5, { s: 'new5' }), rec(6, { s: 'new6' })]);
  t.equal(r.lastZxid, 6);
  await r.close();

  const r2 = Wal.open<Val>(d);
  t.equal(r2.lastZxid, 6);
  const got = all(r2).records;
  t.same(zxids(got), [1, 2, 3, 4, 5, 6]);
  t.same(got.slice(4).map((g) => g.value.s), ['new5', 'new6'], 'the records appended after the cut, not the torn one');
  await r2.close();
});

t.test('garbage after the last record is cut at open and never read as records', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  await w.append(range(1, 4));
  await w.close();
  const file = onlySegment(t, d);
  const recs = parseSegment(file);
  const end = (recs[3] as { offset: number; size: number }).offset + (recs[3] as { size: number }).size;
  // Something that looks like a header (a plausible length), then noise: over the preallocated zeros.
  const junk = Buffer.alloc(200, 0x5a);
  junk.writeUInt32LE(40, 0);
  patch(file, end, junk);

  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, 4);
  t.same(zxids(all(r).records), [1, 2, 3, 4]);
  t.ok(onlyZerosFrom(file, end), 'the file is cut back to its last whole record (what follows is zero-filled ahead)');
  await r.append(range(5, 7, (z) => ({ s: `after-junk-${z}` })));
  await r.close();

  const r2 = Wal.open<Val>(d);
  const got = all(r2).records;
  t.same(zxids(got), [1, 2, 3, 4, 5, 6, 7]);
  t.same(got.slice(4).map((g) => g.value.s), ['after-junk-5', 'after-junk-6', 'after-junk-7']);
  await r2.close();
});

t.test('a corrupt record with whole records after it is damage, not a torn tail: open refuses, naming where to cut', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  await w.append(range(1, 3));
  await w.append([rec(4, { pad: 'p'.repeat(500) }), rec(5, { s: 'stale5' }), rec(6, { s: 'stale6' })]);
  await w.close();
  const file = onlySegment(t, d);
  const fourth = parseSegment(file)[3] as { offset: number; size: number };
  const b = readFileSync(file).subarray(fourth.offset + 100, fourth.offset + 101);
  patch(file, fourth.offset + 100, Buffer.from([(b[0] as number) ^ 0xff]));
  t.notOk(parseSegment(file)[3]?.crcOk, 'record 4 fails its checksum now');

  // Cutting here used to drop records 5 and 6 silently, acknowledged or not.
  const refused = (() => {
    try {
      Wal.open<Val>(d);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.ok(refused instanceof WalDamaged, 'open refuses');
  t.match(refused, { file, validBytes: fourth.offset, lastGoodZxid: 3, next: { zxid: 5, offset: fourth.offset + fourth.size } });
  t.match((refused as Error).message, `truncate -s ${fourth.offset} ${file}`, 'and says how to accept the loss');
  t.equal(readFileSync(file).length > fourth.offset + fourth.size, true, 'the file is left as it was, the evidence kept');

  // The operator accepts the loss as the message says: the log opens at 3, and goes on from there.
  truncateSync(file, fourth.offset);
  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, 3, 'the log ends before the corrupt record');
  t.same(zxids(all(r).records), [1, 2, 3]);
  await r.append([rec(4, { s: 'new4' })]);
  await r.close();
  const r2 = Wal.open<Val>(d);
  t.same(zxids(all(r2).records), [1, 2, 3, 4]);
  t.equal(all(r2).records[3]?.value.s, 'new4');
  await r2.close();
});

t.test('a damaged length field is found too: the whole records after it are found by a scan', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  await w.append(range(1, 3));
  await w.append([rec(4, { s: 'four' }), rec(5, { s: 'five' })]);
  await w.close();
  const file = onlySegment(t, d);
  const fourth = parseSegment(file)[3] as { offset: number; size: number };
  patch(file, fourth.offset, Buffer.from([0x7f, 0x7f, 0x00, 0x00]));
  t.throws(() => Wal.open<Val>(d), { name: 'Error', message: /zxid 5, at byte \d+/ });
});

t.test('a bad last record with nothing whole after it is a torn tail: cut, as before', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  await w.append(range(1, 5));
  await w.close();
  const file = onlySegment(t, d);
  const fifth = parseSegment(file)[4] as { offset: number; size: number };
  patch(file, fifth.offset + 20, Buffer.from('TORN'));
  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, 4);
  await r.close();
});

t.test('a corrupt record in a middle segment stops reading there, and recordsAfter refuses the hole', async (t) => {
  const d = dir(t);
  const opts = { segmentBytes: 4096 };
  const w = Wal.open<Val>(d, opts);
  for (let z = 1; z <= 120; z += 4) await w.append(range(z, z + 3, () => ({ pad: 'm'.repeat(100) })));
  await w.close();
  const files = segFiles(d);
  t.ok(files.length >= 3);
  const second = join(d, files[1] as string);
  const recs = parseSegment(second);
  const bad = recs[Math.floor(recs.length / 2)] as { zxid: number; offset: number };
  const segLast = (recs[recs.length - 1] as { zxid: number }).zxid;
  patch(second, bad.offset + 20, Buffer.from('CORRUPT'));

  const r = Wal.open<Val>(d, opts);
  t.equal(r.segmentCount, files.length, 'no segment is dropped at open');
  t.equal(r.lastZxid, 120);
  t.throws(() => all(r, 0), new RegExp(`missing zxids ${bad.zxid}\\.\\.${segLast}`), 'from the start: the corrupt record and those after it are missing');
  t.throws(() => all(r, bad.zxid - 2), new RegExp(`missing zxids ${bad.zxid}\\.\\.${segLast} \\(store is at ${bad.zxid - 2}\\)`), 'from just before it too');
  // The generator yields what it has before it finds the hole, but never a record past it.
  const seen: number[] = [];
  t.throws(() => {
    for (const c of r.recordsAfter(0, 5)) seen.push(...zxids(c));
  });
  t.ok(seen.length > 0 && seen.every((z) => z < bad.zxid), `nothing at or past zxid ${bad.zxid} was yielded (${seen.length} before)`);
  t.same(zxids(all(r, segLast).records), seq(segLast + 1, 120), 'a store past the damage still gets the rest');
  await r.close();
});

t.test('a segment that holds only preallocated zeros (a crash before its first record) is an empty log', async (t) => {
  const d = dir(t);
  const file = join(d, '00000000000000000001.wal');
  const fd = openSync(file, 'w');
  writeSync(fd, Buffer.alloc(64 * 1024));
  closeSync(fd);
  const w = Wal.open<Val>(d);
  t.equal(w.lastZxid, 0);
  t.equal(w.segmentCount, 1);
  t.same(all(w).records, []);
  await w.append(range(1, 3));
  await w.close();
  const r = Wal.open<Val>(d);
  t.same(segFiles(d), ['00000000000000000001.wal']);
  t.same(zxids(all(r).records), [1, 2, 3]);
  await r.close();
});

t.test('an empty segment is replaced, not left behind, when the next append does not continue it', async (t) => {
  const d = dir(t);
  const fd = openSync(join(d, '00000000000000000001.wal'), 'w');
  writeSync(fd, Buffer.alloc(4096));
  closeSync(fd);
  const w = Wal.open<Val>(d);
  await w.append(range(10, 12));
  t.same(segFiles(d), ['00000000000000000010.wal'], 'no file names a zxid the log lacks');
  t.equal(w.segmentCount, 1);
  await w.close();
  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, 12);
  t.same(zxids(all(r, 9).records), [10, 11, 12]);
  t.throws(() => all(r, 0), /missing zxids 1\.\.9/);
  await r.close();
});
