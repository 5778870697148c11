// The CLI against a node serving HTTPS with client certificates (zoo.cfg tlsCertFile/tlsKeyFile/tlsClientCaFile,
// relative to the file): --cacert, --cert and --key as curl's, for the znode commands, `watch` (WSS) and `status`
// (whose --config finds https:// from the zoo.cfg); bad TLS flags are usage errors (exit 2).
import t from 'tap';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePki } from '../helpers/certs.js';
import { ZKGATE_BIN, freePort, spawnServer, tempDir } from '../helpers/server.js';
import { zk } from './run.js';
import { untracked } from '../helpers/untracked.js';

const dir = tempDir('zkgate-cli-tls-');
const pki = makePki();
pki.file(dir, 'server.pem', pki.server.cert);
pki.file(dir, 'server-key.pem', pki.server.key);
const ca = pki.file(dir, 'ca.pem', pki.ca.cert);
// One attribute: zkCli's ACL argument splits entries on commas, as ZooKeeper's does.
const admin = pki.client([['CN', 'admin']]);
const cert = pki.file(dir, 'admin.pem', admin.cert);
const key = pki.file(dir, 'admin-key.pem', admin.key);
const port = await freePort();
const cfg = join(dir, 'zoo.cfg');
writeFileSync(cfg, [`dataDir=${join(dir, 'data')}`, `httpPort=${port}`, 'tlsCertFile=server.pem', 'tlsKeyFile=server-key.pem', 'tlsClientCaFile=ca.pem', ''].join('\n'));
const server = await spawnServer(['--config', cfg], {}, undefined, false);
t.teardown(async () => {
  server.proc.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
});
const url = `https://127.0.0.1:${port}`;
const tls = ['--url', url, '--cacert', ca, '--cert', cert, '--key', key];

t.test('the znode commands reach an HTTPS node with --cacert, --cert and --key', async (t) => {
  // The node takes a moment to start; spawnServer's own readiness probe speaks plain HTTP.
  let up = await zk(['stat', '/', ...tls]);
  for (let i = 0; i < 100 && up.code !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    up = await zk(['stat', '/', ...tls]);
  }
  t.equal(up.code, 0, up.stderr);
  const made = await zk(['create', '/mine', 'v', 'x509:CN=admin:cdrwa', ...tls]);
  t.equal(made.code, 0, made.stderr);
  const got = await zk(['get', '/mine', ...tls]);
  t.equal(got.code, 0, got.stderr);
  t.match(got.stdout, /^v/, 'the x509-protected node reads back with the certificate');
  const noCert = await zk(['get', '/mine', '--url', url, '--cacert', ca]);
  t.not(noCert.code, 0, 'without a client certificate the node refuses the connection');
  const noCa = await zk(['get', '/mine', '--url', url, '--cert', cert, '--key', key]);
  t.not(noCa.code, 0, 'without --cacert the private CA is not trusted');
  t.match(noCa.stderr, /certificate/i, 'and the error says why');
});

t.test('watch streams over WSS with the same flags', async (t) => {
  const child = spawn(...untracked(process.execPath, [ZKGATE_BIN, 'watch', '/mine', '--kind', 'data', ...tls]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const until = async (pred: () => boolean) => {
    for (const deadline = Date.now() + 15000; !pred() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
  };
  await until(() => /watching \/mine/.test(err));
  t.equal((await zk(['set', '/mine', 'v2', ...tls])).code, 0);
  await until(() => /NodeDataChanged/.test(out));
  child.kill('SIGINT');
  t.match(out, /NodeDataChanged/, `an event arrived over WSS (stderr: ${err})`);
});

t.test('status finds https:// in the zoo.cfg and takes the TLS flags', async (t) => {
  const byCfg = await zk(['status', '--config', cfg, '--cacert', ca, '--cert', cert, '--key', key]);
  t.equal(byCfg.code, 0, byCfg.stderr);
  t.match(byCfg.stdout, /Client SSL: true/);
  t.match(byCfg.stdout, /Mode: standalone/);
  // An operator may not read the server's private key (tests run as root, so a missing file stands in for it):
  // status needs only the address, not the PEM files.
  const noKey = join(dir, 'zoo-nokey.cfg');
  writeFileSync(noKey, [`dataDir=${join(dir, 'data')}`, `httpPort=${port}`, 'tlsCertFile=server.pem', 'tlsKeyFile=unreadable-key.pem', 'tlsClientCaFile=ca.pem', ''].join('\n'));
  const withoutKey = await zk(['status', '--config', noKey, '--cacert', ca, '--cert', cert, '--key', key]);
  t.equal(withoutKey.code, 0, `status reads no PEM file of the server's: ${withoutKey.stderr}`);
  t.match(withoutKey.stdout, /Mode: standalone/);
});

t.test('bad TLS flags are usage errors', async (t) => {
  const half = await zk(['get', '/mine', '--url', url, '--cert', cert]);
  t.equal(half.code, 2, 'a --cert without --key');
  t.match(half.stderr, /--cert and --key go together/);
  const missing = await zk(['get', '/mine', '--url', url, '--cacert', join(dir, 'nope.pem')]);
  t.equal(missing.code, 2, 'an unreadable --cacert');
  t.match(missing.stderr, /--cacert: cannot read/);
});
