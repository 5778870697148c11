// Certificate rotation without a restart (server/tls-reload.ts): changed PEM files are read, validated and then take
// over new connections; an unchanged set is not handed over again; a bad set is refused and the current certificates stay.
import t from 'tap';
import { request } from 'node:https';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logInto } from '../helpers/log.js';
import { X509Certificate } from 'node:crypto';
import type { RequestOptions, ServerOptions } from 'node:https';
import { makePki, type Pem, type TestPki } from '../helpers/certs.js';
import { startTestServer, tempDir } from '../helpers/server.js';
import { TlsReloader } from '../../server/tls-reload.js';
import { tlsServerOptions, type TlsSettings } from '../../server/tls.js';
import { defaultConfig, tlsSettings } from '../../server/config.js';

const dir = tempDir('zkgate-tls-reload-');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
// The second set's server certificate lives longer, so the expiry gauge tells the two apart.
const [one, two] = [makePki(), makePki(48)];

/** Writes `pki`'s server certificate, key and CA as the files a zoo.cfg names (the key may come from another set). */
function install(d: string, pki: TestPki, keyFrom: TestPki = pki): { tlsCertFile: string; tlsKeyFile: string; tlsClientCaFile: string } {
  const files = { tlsCertFile: join(d, 'server.pem'), tlsKeyFile: join(d, 'server-key.pem'), tlsClientCaFile: join(d, 'ca.pem') };
  writeFileSync(files.tlsCertFile, pki.server.cert);
  writeFileSync(files.tlsKeyFile, keyFrom.server.key);
  writeFileSync(files.tlsClientCaFile, pki.ca.cert);
  return files;
}

function get(url: string, path: string, ca: string, client: Pem, extra: RequestOptions = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { ca, cert: client.cert, key: client.key, agent: false, ...extra }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.once('error', reject);
    req.end();
  });
}

const status = async (url: string, ca: string, client: Pem, extra: RequestOptions = {}) => (await get(url, '/v1/admin/ruok', ca, client, extra)).status;

/** The expiry gauge of the client port's certificate, as /metrics gives it. */
async function notAfter(url: string, ca: string, client: Pem): Promise<number | undefined> {
  const m = /^zkgate_tls_certificate_not_after_seconds\{port="client"\} (\d+)$/m.exec((await get(url, '/metrics', ca, client)).text);
  return m ? Number(m[1]) : undefined;
}

const expiry = (pem: string) => Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000);

t.test('TlsReloader: takes only changed files, refuses a bad set and keeps the current one, then takes the fixed one', async (t) => {
  const d = join(dir, 'unit');
  mkdirSync(d, { recursive: true });
  const files = install(d, one);
  const lines: { level: number; msg: string }[] = [];
  const log = logInto(lines, 'info');
  const taken: ServerOptions[] = [];
  const cfg = { ...defaultConfig(), ...files };
  const r = new TlsReloader(cfg, log, { client: (o) => taken.push(o) }, { client: tlsServerOptions(tlsSettings(cfg) as TlsSettings) });
  t.teardown(() => r.stop());
  t.equal(r.check('files changed'), false, 'nothing changed: nothing taken');
  install(d, two, one);
  t.equal(r.check('files changed'), false, "a certificate whose key does not match (a rotation half-written) is refused");
  t.equal(taken.length, 0, 'and nothing taken over');
  t.match(lines.at(-1), { level: 50, msg: /TLS certificates not reloaded, the current ones stay: tlsKeyFile: / });
  install(d, two);
  t.equal(r.check('files changed'), true, 'the completed rotation is taken');
  t.equal(String(taken[0]?.cert), two.server.cert, 'with the new certificate');
  t.equal(String(taken[0]?.ca), two.ca.cert, 'and the new client CA');
  t.match(lines.at(-1), { level: 30, msg: 'TLS certificates reloaded; new connections use them' });
  t.equal(r.check('files changed'), false, 'and not taken again until they change');
  for (const [what, text] of [['empty', ''], ['not PEM', 'garbage\n'], ['half-written', two.ca.cert.slice(0, 40)]] as const) {
    writeFileSync(files.tlsClientCaFile, text);
    t.equal(r.check('files changed'), false, `a client CA file ${what} is refused (it would trust no client)`);
    t.match(lines.at(-1), { level: 50, msg: /TLS certificates not reloaded, the current ones stay: tlsClientCaFile: .* holds no PEM certificate/ });
  }
  t.equal(taken.length, 1, 'none of them was taken over');
  const empty = { ...cfg, tlsClientCaFile: files.tlsClientCaFile };
  t.throws(() => tlsServerOptions(tlsSettings(empty) as TlsSettings), /tlsClientCaFile: .* holds no PEM certificate/, 'nor is one at start');
});

t.test('a running server rotates its certificate and client CA on reload, for new connections', async (t) => {
  const d = join(dir, 'server');
  mkdirSync(d, { recursive: true });
  const s = await startTestServer(install(d, one));
  t.teardown(() => s.destroy());
  const [c1, c2] = [one.client([['CN', 'old']]), two.client([['CN', 'new']])];
  t.equal(await status(s.url, one.ca.cert, c1), 200, 'before: the first CA and its client certificate');
  t.equal(await notAfter(s.url, one.ca.cert, c1), expiry(one.server.cert), "the expiry gauge gives the certificate's notAfter");
  install(d, two);
  t.equal(s.reloadTls('test'), true, 'reloaded');
  t.equal(await status(s.url, two.ca.cert, c2), 200, 'after: a new connection gets the new certificate and the new client CA accepts its client');
  await t.rejects(status(s.url, one.ca.cert, c1), 'and the old CA no longer verifies the server');
  t.equal(await notAfter(s.url, two.ca.cert, c2), expiry(two.server.cert), 'the expiry gauge follows the new certificate');
  t.not(expiry(two.server.cert), expiry(one.server.cert));
});

t.test('a reload keeps tlsProtocols and tlsCiphers: only the certificates change', async (t) => {
  const d = join(dir, 'policy');
  mkdirSync(d, { recursive: true });
  const s = await startTestServer({ ...install(d, one), tlsProtocols: ['TLSv1.3'], tlsCiphers: 'TLS_AES_256_GCM_SHA384' });
  t.teardown(() => s.destroy());
  const [c1, c2] = [one.client([['CN', 'old']]), two.client([['CN', 'new']])];
  t.equal(await status(s.url, one.ca.cert, c1), 200, 'before: a TLSv1.3 client is served');
  await t.rejects(status(s.url, one.ca.cert, c1, { maxVersion: 'TLSv1.2' }), 'and a TLSv1.2 one refused');
  install(d, two);
  t.equal(s.reloadTls('test'), true, 'reloaded');
  t.equal(await status(s.url, two.ca.cert, c2), 200, 'after: the new certificate serves TLSv1.3');
  await t.rejects(status(s.url, two.ca.cert, c2, { maxVersion: 'TLSv1.2' }), 'and still refuses TLSv1.2');
  await t.rejects(status(s.url, two.ca.cert, c2, { ciphers: 'TLS_AES_128_GCM_SHA256' }), 'and a TLSv1.3 suite not configured');
});
