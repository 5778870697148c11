// `zkgate snapshot` saves a running node's store to one file (GET /v1/admin/snapshot); `zkgate restore`
// installs such a file as a fresh dataDir a server then serves the same tree from.
import type { Command } from 'commander';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { verifySnapshotFile, trailer, TRAILER_BYTES } from './snapshot-file.js';
import { dirname, resolve } from 'node:path';
import { Client } from './http.js';
import { clientCommand, makeClient } from './common.js';
import { line, runAction } from './output.js';
import { CliFailure, UsageError } from './errors.js';
import { describeNetworkError, failureOf, send, type ClientOptions } from './http.js';

async function download(c: Client, outFile: string): Promise<{ zxid: string; znodes: string; bytes: number; url: string }> {
  const tmp = `${outFile}.partial`;
  // A local mistake, said as one, before a snapshot of maybe gigabytes is fetched in vain.
  const dir = dirname(outFile);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliFailure(`cannot write --out ${outFile}: ${dir} is not a directory`);
  for (const url of c.urls) {
    let res: IncomingMessage;
    try {
      res = await send(`${url}/v1/admin/snapshot`, 'GET', c.authorization ? { authorization: c.authorization } : {}, undefined, c.timeoutMs, c.httpsAgent);
    } catch (e) {
      process.stderr.write(`zkgate: ${describeNetworkError(e, url, c.timeoutMs).message}\n`);
      continue;
    }
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const d of res) chunks.push(d as Buffer);
      throw failureOf({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url });
    }
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      const out = createWriteStream(tmp);
      await pipeline(
        res,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            bytes += chunk.length;
            yield chunk;
          }
        },
        out,
        { end: false },
      );
      const expected = Number(res.headers['content-length']);
      if (Number.isFinite(expected) && expected !== bytes) throw new Error(`got ${bytes} of ${expected} bytes`);
      const sha = hash.digest();
      const sent = res.headers['zk-snapshot-sha256'];
      if (typeof sent !== 'string' || sent !== sha.toString('hex')) throw new Error('checksum mismatch: the copy was damaged in transit');
      await new Promise<void>((resolve, reject) => out.end(trailer(sha, BigInt(String(res.headers['zk-snapshot-zxid'] ?? '0')), bytes), (e?: Error | null) => (e ? reject(e) : resolve())));
      renameSync(tmp, outFile);
      return { zxid: String(res.headers['zk-snapshot-zxid'] ?? '?'), znodes: String(res.headers['zk-snapshot-znodes'] ?? '?'), bytes, url };
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new CliFailure(`snapshot download from ${url} failed: ${(e as Error).message}`);
    }
  }
  throw new CliFailure(`no server could be reached for a snapshot (${c.urls.join(', ')})`);
}

export function registerSnapshotCommands(program: Command): void {
  clientCommand(program, 'snapshot', "write a consistent point-in-time copy of a running node's store to one file")
    .requiredOption('--out <file>', 'the file to write')
    .option('--force', 'overwrite --out if it exists')
    .action((o: ClientOptions & { out: string; force?: boolean }) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        const out = resolve(o.out);
        if (existsSync(out) && !o.force) throw new CliFailure(`${out} exists; pass --force to overwrite it`);
        // The timeout bounds connecting and the first byte, not a large transfer.
        const r = await download(c, out);
        if (o.json) return line(JSON.stringify({ file: out, zxid: r.zxid, znodes: Number(r.znodes), bytes: r.bytes, url: r.url }));
        line(`Snapshot of ${r.url} at zxid ${r.zxid} (${r.znodes} znodes, ${r.bytes} bytes) written to ${out}`);
      }),
    );

  program
    .command('restore')
    .description('make a data dir from a snapshot file; a server started on it serves the same tree')
    .requiredOption('--in <file>', 'a file written by zkgate snapshot')
    .requiredOption('--data-dir <dir>', 'the data dir to create (must be absent or empty)')
    .option('--json', 'print the result as JSON')
    .action((o: { in: string; dataDir: string; json?: boolean }) =>
      runAction(o.json, async () => {
        const file = resolve(o.in);
        const dir = resolve(o.dataDir);
        if (!existsSync(file)) throw new UsageError(`--in ${file} does not exist`);
        if (existsSync(dir) && readdirSync(dir).length > 0) throw new CliFailure(`--data-dir ${dir} is not empty; restore only into an absent or empty directory`);
        // Loaded here so that the other commands start without LMDB.
        const { Store } = await import('../storage/store.js');
        try {
          await verifySnapshotFile(file);
        } catch (e) {
          throw new CliFailure(`${file} is not a zkgate snapshot: ${(e as Error).message}`);
        }
        mkdirSync(dir, { recursive: true });
        const target = Store.fileIn(dir);
        // The LMDB copy is the file without its trailer.
        const size = statSync(file).size - TRAILER_BYTES;
        copyFileSync(file, target);
        truncateSync(target, size);
        let info;
        try {
          info = Store.inspectSnapshot(target);
        } catch (e) {
          for (const f of readdirSync(dir)) rmSync(resolve(dir, f), { force: true, recursive: true });
          throw new CliFailure(`${file} is not a zkgate snapshot: ${(e as Error).message}`);
        }
        if (o.json) return line(JSON.stringify({ dataDir: dir, zxid: String(info.zxid), znodes: info.znodes }));
        line(`Restored ${file} (zxid ${info.zxid}, ${info.znodes} znodes) into ${dir}`);
        line(`Start a server on it: zkgate server --data-dir ${dir}   (an ensemble member also needs its myid file there)`);
      }),
    );
}
