// The write-ahead log on real files returns exactly the whole records appended, in order, across reopens, torn tails, corruption, rotation, release and zxid jumps.
import t, { type Test } from 'tap';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Wal, type WalRecord } from '../../storage/wal.js';
import { tempDir } from '../helpers/server.js';

interface Val {
  n: number;
  s: string;
  bytes?: Uint8Array;
  pad?: string;
}

function dir(t: Test): string {
  const d = tempDir('zkgate-wal-');
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function rec(zxid: number, extra: Partial<Val> = {}): WalRecord<Val> {
  return { zxid, value: { n: zxid, s: `v${zxid}`, ...extra } };
}

function range(from: number, to: number, extra: (z: number) => Partial<Val> = () => ({})): WalRecord<Val>[] {
  const out: WalRecord<Val>[] = [];
  for (let z = from; z <= to; z++) out.push(rec(z, extra(z)));
  return out;
}

/** Every record recordsAfter yields, flattened, with the chunk sizes it used. */
function all<T>(w: Wal<T>, after = 0, chunk?: number): { records: WalRecord<T>[]; chunks: number[] } {
  const records: WalRecord<T>[] = [];
  const chunks: number[] = [];
  for (const c of w.recordsAfter(after, chunk)) {
    chunks.push(c.length);
    records.push(...c);
  }
  return { records, chunks };
}

function zxids<T>(rs: WalRecord<T>[]): number[] {
  return rs.map((r) => r.zxid);
}

function seq(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

function segFiles(d: string): string[] {
  return readdirSync(d)
    .filter((n) => n.endsWith('.wal'))
    .sort();
}

/**
 * The records of a segment file as the format describes them, parsed here independently of wal.ts:
 * [u32 len][u32 crc32 of bytes 8..end][f64 zxid][payload]. Stops at a zero length (preallocated space).
 */
function parseSegment(file: string): { zxid: number; offset: number; size: number; crcOk: boolean }[] {
  const buf = readFileSync(file);
  const out: { zxid: number; offset: number; size: number; crcOk: boolean }[] = [];
  let pos = 0;
  while (pos + 16 <= buf.length) {
    const len = buf.readUInt32LE(pos);
    if (len === 0 || pos + 16 + len > buf.length) break;
    out.push({ zxid: buf.readDoubleLE(pos + 8), offset: pos, size: 16 + len, crcOk: crc32(buf.subarray(pos + 8, pos + 16 + len)) === buf.readUInt32LE(pos + 4) });
    pos += 16 + len;
  }
  return out;
}

function onlySegment(t: Test, d: string): string {
  const files = segFiles(d);
  t.equal(files.length, 1, 'one segment file');
  return join(d, files[0] as string);
}

/** Whether the file holds nothing but zeros (or nothing) from `offset` on: no stale byte past the log's end. */
function onlyZerosFrom(file: string, offset: number): boolean {
  return readFileSync(file).subarray(offset).every((b) => b === 0);
}

function patch(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

t.test('an empty (or absent) dir is an empty log', async (t) => {
  const d = join(dir(t), 'not-yet');
  const w = Wal.open<Val>(d);
  t.equal(w.lastZxid, 0);
  t.equal(w.segmentCount, 0);
  t.same(all(w).records, []);
  t.same(all(w, 17).records, [], 'a store ahead of an empty log needs nothing from it');
  t.same(segFiles(d), [], 'opening creates no segment');
  await w.close();
  const again = Wal.open<Val>(d);
  t.equal(again.lastZxid, 0);
  await again.close();
});

t.test('appended records come back in order after a reopen, binary values intact', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  const values: WalRecord<Val>[] = [
    rec(1, { bytes: Buffer.from([0, 1, 2, 255]) }),
    rec(2, { bytes: new Uint8Array([9, 8, 7]) }),
    rec(3, { s: 'ünïcødé ✓ \u{1F600}', bytes: new Uint8Array(0) }),
    rec(4, { bytes: Buffer.alloc(70000, 0xab) }),
  ];
  await w.append(values.slice(0, 1));
  await w.append(values.slice(1, 3));
  await w.append(values.slice(3));
  await w.append([]);
  t.equal(w.lastZxid, 4);
  t.same(zxids(all(w).records), [1, 2, 3, 4], 'the open log reads back what it appended');
  await w.close();
  await t.rejects(w.append([rec(5)]), /closed/, 'a closed log takes no appends');

  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, 4);
  t.equal(r.segmentCount, 1);
  const got = all(r).records;
  t.same(zxids(got), [1, 2, 3, 4]);
  for (const [i, g] of got.entries()) {
    const want = (values[i] as WalRecord<Val>).value;
    t.equal(g.value.n, want.n);
    t.equal(g.value.s, want.s, `record ${g.zxid}: string`);
    t.ok(g.value.bytes instanceof Uint8Array, `record ${g.zxid}: bytes decode as bytes`);
    t.ok(Buffer.from(g.value.bytes as Uint8Array).equals(Buffer.from(want.bytes as Uint8Array)), `record ${g.zxid}: same bytes`);
  }
  const file = onlySegment(t, d);
  t.equal(segFiles(d)[0], '00000000000000000001.wal', 'the segment is named by its first zxid, 20 digits');
  const onDisk = parseSegment(file);
  t.same(onDisk.map((x) => x.zxid), [1, 2, 3, 4], 'the file holds the records in the documented layout');
  t.ok(onDisk.every((x) => x.crcOk), 'each with a crc32 of its bytes 8..end');

  const chunked = all(r, 0, 3);
  t.same(chunked.chunks, [3, 1], 'recordsAfter yields chunks of at most `chunk`');
  t.same(zxids(chunked.records), [1, 2, 3, 4]);
  await r.close();
});

t.test('group commit: concurrent appends all resolve, share flushes, and recover in zxid order', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  let flushes = 0;
  w.flushObserver = () => flushes++;
  const N = 300;
  const done: number[] = [];
  const appends = [];
  for (let z = 1; z <= N; z++) appends.push(w.append([rec(z, { pad: 'x'.repeat(z % 50) })]).then(() => done.push(z)));
  await Promise.all(appends);
  t.equal(done.length, N, 'every append resolved');
  t.same(done, seq(1, N), 'in the order they were made');
  t.ok(flushes < N / 10, `${N} appends took ${flushes} synchronous writes`);
  await w.close();

  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, N);
  const got = all(r).records;
  t.same(zxids(got), seq(1, N));
  t.ok(got.every((g) => g.value.n === g.zxid && g.value.pad === 'x'.repeat(g.zxid % 50)), 'each with its own value');
  await r.close();
});

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

t.test('a corrupt record in the last segment ends the log there; the whole records after it never resurface', async (t) => {
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

  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, 3, 'the log ends before the corrupt record');
  t.same(zxids(all(r).records), [1, 2, 3], 'records 5 and 6, though whole, are not returned');
  // A shorter record 4 than the corrupt one: if 5 and 6 were still on disk behind it they would read as valid.
  await r.append([rec(4, { s: 'new4' })]);
  await r.close();

  const r2 = Wal.open<Val>(d);
  t.equal(r2.lastZxid, 4, 'no stale record after the new 4');
  const got = all(r2).records;
  t.same(zxids(got), [1, 2, 3, 4]);
  t.equal(got[3]?.value.s, 'new4');
  await r2.append([rec(5, { s: 'new5' })]);
  t.same(all(r2).records.slice(3).map((g) => g.value.s), ['new4', 'new5']);
  await r2.close();
});

t.test('rotation: a small segmentBytes gives several segments, each whole and named by its first zxid', async (t) => {
  const d = dir(t);
  const opts = { segmentBytes: 4096 };
  const w = Wal.open<Val>(d, opts);
  for (let z = 1; z <= 200; z += 5) await w.append(range(z, z + 4, () => ({ pad: 'r'.repeat(80) })));
  t.equal(w.lastZxid, 200);
  const files = segFiles(d);
  t.ok(files.length >= 4, `${files.length} segments`);
  t.equal(w.segmentCount, files.length);
  let expect = 1;
  for (const f of files) {
    const recs = parseSegment(join(d, f));
    t.equal(Number(f.slice(0, 20)), expect, `${f} starts where the previous one ended`);
    t.same(recs.map((x) => x.zxid), seq(expect, expect + recs.length - 1), `${f} holds consecutive zxids`);
    t.ok(recs.length > 0);
    expect += recs.length;
  }
  t.equal(expect, 201, 'the segments hold every record once');
  t.same(zxids(all(w).records), seq(1, 200), 'recordsAfter spans the segments');
  await w.close();

  const r = Wal.open<Val>(d, opts);
  t.equal(r.segmentCount, files.length);
  t.equal(r.lastZxid, 200);
  t.same(zxids(all(r, 0, 7).records), seq(1, 200));
  // From inside segments, and exactly at segment boundaries.
  const firsts = files.map((f) => Number(f.slice(0, 20)));
  for (const after of [1, 37, 99, 150, 199, 200, ...firsts.map((f) => f - 1), ...firsts]) {
    t.same(zxids(all(r, after, 13).records), seq(after + 1, 200), `recordsAfter(${after}) starts at ${after + 1}`);
  }
  await r.close();
});

t.test('release deletes only whole non-active segments at or below the zxid', async (t) => {
  const d = dir(t);
  const opts = { segmentBytes: 4096 };
  const w = Wal.open<Val>(d, opts);
  for (let z = 1; z <= 200; z += 5) await w.append(range(z, z + 4, () => ({ pad: 'r'.repeat(80) })));
  const files = segFiles(d);
  const firsts = files.map((f) => Number(f.slice(0, 20)));
  const lastOf = (i: number) => (i + 1 < firsts.length ? (firsts[i + 1] as number) - 1 : 200);
  t.ok(firsts.length >= 4);

  w.release((firsts[0] as number) - 1);
  t.same(segFiles(d), files, 'nothing at or below a zxid before the first segment');
  w.release(lastOf(0) - 1);
  t.same(segFiles(d), files, 'a segment with a record above the zxid stays');
  w.release(lastOf(0));
  t.same(segFiles(d), files.slice(1), 'a segment whose last record is the zxid goes');
  w.release(lastOf(2) - 1);
  t.same(segFiles(d), files.slice(2), 'only the segments wholly at or below it');
  t.equal(w.segmentCount, files.length - 2);
  t.same(zxids(all(w, lastOf(1)).records), seq(lastOf(1) + 1, 200), 'the log still serves a store at the release point');
  t.throws(() => all(w, 0), /missing zxids 1\.\./, 'but not a store behind it');

  w.release(1e9);
  t.same(segFiles(d), files.slice(-1), 'the active segment is never released');
  t.equal(w.segmentCount, 1);
  t.equal(w.lastZxid, 200);
  await w.append(range(201, 203));
  t.same(zxids(all(w, 200).records), [201, 202, 203], 'and takes appends after a release');
  const kept = segFiles(d);
  t.equal(kept[0], files[files.length - 1], 'the segment that was active is still there');
  await w.close();

  const r = Wal.open<Val>(d, opts);
  t.equal(r.segmentCount, kept.length);
  t.equal(r.lastZxid, 203);
  t.same(zxids(all(r, (firsts[firsts.length - 1] as number) - 1).records), seq(firsts[firsts.length - 1] as number, 203));
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

t.test('an append that does not continue the log starts a new segment; recovery reads across it', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  await w.append(range(1, 5));
  await w.append(range(20, 22));
  t.same(segFiles(d), ['00000000000000000001.wal', '00000000000000000020.wal']);
  t.equal(w.lastZxid, 22);
  // A jump inside one group commit: the records before it and after it land in different segments.
  const a = w.append(range(23, 24));
  const b = w.append(range(25, 26));
  const c = w.append(range(40, 41));
  const e = w.append(range(42, 42));
  await Promise.all([a, b, c, e]);
  t.same(segFiles(d), ['00000000000000000001.wal', '00000000000000000020.wal', '00000000000000000040.wal']);
  await w.close();

  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, 42);
  t.equal(r.segmentCount, 3);
  t.same(
    parseSegment(join(d, '00000000000000000020.wal')).map((x) => x.zxid),
    [20, 21, 22, 23, 24, 25, 26],
  );
  t.same(zxids(all(r, 39).records), [40, 41, 42], 'a store that moved past the jump replays after it');
  t.throws(() => all(r, 19), /missing zxids 27\.\.39/, 'a store inside the first jump is refused');
  t.throws(() => all(r, 0), /missing zxids 6\.\.19/, 'and so is one before it');
  await r.append(range(43, 44));
  t.equal(r.segmentCount, 3, 'appends after a reopen continue the last segment');
  t.same(zxids(all(r, 39).records), [40, 41, 42, 43, 44]);
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

// Appends are durable only because the segment's descriptor is O_DSYNC (there is no separate fdatasync): a change
// that opened it without the flag would pass every other test here while acknowledging writes still in the page
// cache. Linux's fdinfo shows the flags each open descriptor of this process carries; zkgate runs and is tested on
// Linux (the Dockerfile, CI), where O_DSYNC is the documented durability (elsewhere it would need checking anew).
t.test('appends go through a descriptor opened O_DSYNC', async (t) => {
  t.ok(existsSync('/proc/self/fdinfo'), 'this test reads Linux\'s /proc/self/fdinfo');
  const d = dir(t);
  const w = Wal.open<Val>(d);
  await w.append(range(1, 3));
  const O_DSYNC = 0o10000;
  const segment = readdirSync(d).find((n) => n.endsWith('.wal'));
  t.ok(segment, 'a segment exists');
  const target = join(d, segment as string);
  const flags = readdirSync('/proc/self/fd')
    .filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === target;
      } catch {
        return false; // closed since the listing
      }
    })
    .map((fd) => parseInt(/^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8));
  t.equal(flags.length, 1, 'the log keeps one descriptor open on its active segment');
  t.ok(((flags[0] ?? 0) & O_DSYNC) !== 0, `its flags (0${(flags[0] ?? 0).toString(8)}) include O_DSYNC`);
  await w.close();
});

t.test('records that straddle the 1 MiB read chunk, or are longer than it, come back whole after a reopen', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  // Sizes around and past the chunk: small ones that end just before or after a chunk edge, and 1.5 MiB ones.
  const sizes = [100, 700_000, 348_000, 1_048_560, 1, 1_500_000, 20, 900_000, 1_600_000, 5];
  const bytesOf = (z: number) => Buffer.alloc(sizes[z - 1] as number, z);
  for (let z = 1; z <= sizes.length; z++) await w.append([rec(z, { bytes: bytesOf(z) })]);
  await w.close();
  const r = Wal.open<Val>(d);
  t.equal(r.lastZxid, sizes.length, 'the scan at open finds every record');
  const got = all(r).records;
  t.same(zxids(got), seq(1, sizes.length));
  for (const x of got) t.ok(Buffer.from(x.value.bytes as Uint8Array).equals(bytesOf(x.zxid)), `record ${x.zxid} (${sizes[x.zxid - 1]} bytes) intact`);
  await r.close();
});

t.test('a replay reads a segment from near its first wanted record, not from the start', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  for (let z = 1; z <= 5000; z += 500) await w.append(range(z, z + 499));
  await w.close();
  const r = Wal.open<Val>(d);
  // Around the points where the scan at open marks where a record starts (every 1,024th record).
  for (const after of [0, 1, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4999, 5000]) {
    t.same(zxids(all(r, after, 700).records), seq(after + 1, 5000), `recordsAfter(${after})`);
  }
  // Records the store already holds are not read again: with the first record now unreadable, a replay from the
  // 3,000th still gets every record after it.
  const file = onlySegment(t, d);
  patch(file, 4, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  t.same(zxids(all(r, 3000).records), seq(3001, 5000), 'read from the mark before zxid 3001');
  await r.close();
  t.equal(Wal.open<Val>(d).lastZxid, 0, 'reopened, the corrupt first record ends the log there, as before');
});

t.test('the active segment is zero-filled again in the background at open, so the first append after a restart finds room', async (t) => {
  const d = dir(t);
  const w = Wal.open<Val>(d);
  await w.append(range(1, 3));
  await w.close();
  const file = onlySegment(t, d);
  const end = parseSegment(file).reduce((e, r) => r.offset + r.size, 0);
  // A crash left the zero-filled space; the next open cuts it, then fills again without waiting for an append.
  const r = Wal.open<Val>(d);
  const deadline = Date.now() + 10_000;
  while (statSync(file).size < end + 4 * 1024 * 1024 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
  t.ok(statSync(file).size >= end + 4 * 1024 * 1024, `zero-filled past its end before any append (${statSync(file).size} bytes, records end at ${end})`);
  t.ok(onlyZerosFrom(file, end));
  // Appending past what was filled: appends zero-fill further as they run out of room, and nothing is lost.
  const big = 'x'.repeat(64 * 1024);
  for (let z = 4; z < 4 + 200; z++) await r.append([rec(z, { pad: big })]);
  await r.close();
  const r2 = Wal.open<Val>(d);
  t.same(zxids(all(r2).records), seq(1, 203));
  await r2.close();
});
