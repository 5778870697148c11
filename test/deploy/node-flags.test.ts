// The server's V8 flags (server/node-flags.ts) reach every way of starting it: bin/zkgate (which the Dockerfile and
// `npm start` use) passes exactly SERVER_NODE_FLAGS, and ZKGATE_NODE_FLAGS replaces them.
import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_NODE_FLAGS } from '../../server/node-flags.js';
import { freePort, spawnServer, tempDir } from '../helpers/server.js';

const root = new URL('../../../', import.meta.url).pathname;
const wrapper = join(root, 'bin', 'zkgate');

async function flagsOf(env: NodeJS.ProcessEnv): Promise<unknown> {
  const dir = tempDir();
  const port = await freePort();
  const s = await spawnServer(['--data-dir', dir, '--http-port', String(port), '--log-level', 'warn'], env, [wrapper]);
  try {
    const r = await fetch(`${s.url}/v1/admin/envi`);
    return ((await r.json()) as { nodeFlags?: unknown }).nodeFlags;
  } finally {
    s.proc.kill('SIGKILL');
    await s.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('bin/zkgate runs the server with SERVER_NODE_FLAGS, visible in /v1/admin/envi', async (t) => {
  t.same(await flagsOf({ ZKGATE_NODE_FLAGS: undefined }), [...SERVER_NODE_FLAGS]);
});

t.test('ZKGATE_NODE_FLAGS replaces them; empty means V8 defaults', async (t) => {
  t.same(await flagsOf({ ZKGATE_NODE_FLAGS: '' }), []);
  t.same(await flagsOf({ ZKGATE_NODE_FLAGS: '--max-semi-space-size=8' }), ['--max-semi-space-size=8']);
});

t.test('npm start and the Docker image start the server through bin/zkgate', async (t) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  t.equal(pkg.scripts.start, 'bin/zkgate server');
  t.equal(pkg.bin.zkgate, 'bin/zkgate');
  t.match(readFileSync(join(root, 'Dockerfile'), 'utf8'), /CMD \["zkgate", "server"/);
});
