// GET /v1/admin/snapshot: streams a consistent point-in-time copy of the node's LMDB store (what
// `zkgate snapshot` saves and `zkgate restore` installs). One at a time; the copy lives under the dataDir.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { createReadStream, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ZkError } from '../server/errors.js';
import { ErrorRef } from '../openapi/schemas.js';
import type { ZkNode } from '../server/node.js';
import { makeDir } from '../storage/make-dir.js';

const TMP_DIR = 'snapshot-tmp';

export const snapshotRoutes: FastifyPluginAsync<{ node: ZkNode }> = async (app, { node }) => {
  let busy = false;
  let seq = 0;
  const dir = join(node.cfg.dataDir, TMP_DIR);

  app.get('/v1/admin/snapshot', {
    schema: {
      tags: ['admin'],
      summary: 'snapshot: a consistent copy of the whole store, as one file',
      description:
        'The body is an LMDB file (compacted) that `zkgate restore` installs as a new dataDir. ' +
        '`ZK-Snapshot-Zxid` gives the last zxid it contains, `ZK-Snapshot-Sha256` the SHA-256 of the body. One snapshot at a time per node (503 while one runs). ' +
        'Who may: the super user when one is configured; otherwise whoever holds ALL (cdrwa, each letter) on `/` under the request\'s identities (address, Basic digest, certificate), ZooKeeper\'s rule for its AdminServer snapshot.',
      produces: ['application/octet-stream'],
      response: { 200: Type.String({ format: 'binary', examples: ['<LMDB file bytes>'] }), 401: ErrorRef, 403: ErrorRef, 503: ErrorRef },
    },
    handler: async (_req, reply) => {
      if (busy) throw new ZkError('ConnectionLoss', 'a snapshot is already being taken on this node', { applied: false });
      busy = true;
      let file: string | undefined;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        busy = false;
      };
      const cleanup = () => {
        if (file) {
          rmSync(file, { force: true });
          rmSync(`${file}-lock`, { force: true });
        }
        release();
      };
      // A stale copy left by a process that died mid-snapshot is removed; so is one whose stream has ended
      // but not yet closed (unlinking an open file is safe).
      try {
        makeDir(dir);
        for (const f of readdirSync(dir)) rmSync(join(dir, f), { force: true });
        file = join(dir, `snapshot-${Date.now()}-${seq++}.mdb`);
        const info = await node.store.backupTo(file);
        const size = statSync(file).size;
        const hash = createHash('sha256');
        for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
        const stream = createReadStream(file);
        const timer = setTimeout(() => stream.destroy(new Error('snapshot download took longer than snapshotTimeoutMs')), node.cfg.snapshotTimeoutMs);
        timer.unref();
        // Released once every byte has been read, before the client can see the end of the body; the file
        // itself goes when the stream closes (a little later, once its descriptor is closed).
        stream.once('end', release);
        stream.once('close', () => {
          clearTimeout(timer);
          cleanup();
        });
        reply.header('ZK-Snapshot-Zxid', String(info.zxid));
        reply.header('ZK-Snapshot-Znodes', String(info.znodes));
        reply.header('ZK-Snapshot-Sha256', hash.digest('hex'));
        reply.header('Content-Length', String(size));
        reply.header('Content-Disposition', `attachment; filename="zkgate-${info.zxid}.snapshot"`);
        return reply.type('application/octet-stream').send(stream);
      } catch (e) {
        cleanup();
        throw e;
      }
    },
  });
};
