// ZooKeeper's TLS keys in zoo.cfg (server/zk-tls-keys.ts): PEM stores become zkgate's TLS settings, a node started
// from such a file serves HTTPS with a key and certificate in one PEM file, and what zkgate cannot read (JKS, PKCS#12,
// an encrypted key) is refused naming the key instead of falling back to plain HTTP.
import t from 'tap';
import { request } from 'node:https';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../server/zoo-cfg.js';
import { makePki } from '../helpers/certs.js';
import { startTestServer, tempDir } from '../helpers/server.js';

const dir = tempDir('zkgate-zk-tls-');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const pki = makePki();
// ZooKeeper's PEM key store: the private key and the certificate chain in one file.
const keyStore = pki.file(dir, 'keystore.pem', pki.server.key + pki.server.cert);
const trustStore = pki.file(dir, 'truststore.pem', pki.ca.cert);

let n = 0;
function load(lines: string[]) {
  const f = join(dir, `zoo-${n++}.cfg`);
  writeFileSync(f, [`dataDir=${join(dir, 'data')}`, ...lines, ''].join('\n'));
  return loadConfig({ config: f });
}

t.test('PEM stores become tlsCertFile, tlsKeyFile and tlsClientCaFile, with ssl.clientAuth', async (t) => {
  const cfg = load(['ssl.keyStore.location=keystore.pem', 'ssl.keyStore.type=PEM', 'ssl.trustStore.location=truststore.pem', 'ssl.trustStore.type=PEM', 'ssl.trustStore.password=ignored', 'ssl.clientAuth=want']);
  t.match(cfg, { tlsCertFile: keyStore, tlsKeyFile: keyStore, tlsClientCaFile: trustStore, tlsClientAuth: 'want' });
  t.same(cfg.unknownKeys, [], 'none of them is an unknown key');
  t.equal(load(['ssl.keyStore.location=keystore.pem', 'ssl.trustStore.location=truststore.pem', 'ssl.clientAuth=none']).tlsClientCaFile, undefined, 'clientAuth=none: no client certificates');
  t.equal(load(['ssl.keyStore.location=keystore.pem', 'ssl.trustStore.location=truststore.pem']).tlsClientAuth, 'need', "ZooKeeper's default, need");
  const own = load(['tlsCertFile=own.pem', 'tlsKeyFile=own-key.pem', 'tlsClientAuth=need', 'ssl.keyStore.location=keystore.pem', 'ssl.clientAuth=want']);
  t.match(own, { tlsCertFile: join(dir, 'own.pem'), tlsKeyFile: join(dir, 'own-key.pem'), tlsClientAuth: 'need' }, "zkgate's own keys win, before or after");
});

t.test('sslQuorum=true with quorum stores becomes peer TLS; without it they are not used', async (t) => {
  const q = ['ssl.quorum.keyStore.location=keystore.pem', 'ssl.quorum.trustStore.location=truststore.pem'];
  t.match(load(['sslQuorum=true', ...q]), { peerTlsCertFile: keyStore, peerTlsKeyFile: keyStore, peerTlsCaFile: trustStore });
  t.equal(load(q).peerTlsCertFile, undefined, 'as in ZooKeeper, the stores alone do not turn it on');
  t.equal(load(['sslQuorum=true', ...q]).peerTlsVerifyHostname, true, "with them, peers' host names are checked, ZooKeeper's default");
  t.equal(load(['sslQuorum=true', ...q, 'ssl.quorum.hostnameVerification=false']).peerTlsVerifyHostname, false, 'unless ssl.quorum.hostnameVerification=false');
  t.equal(load(['sslQuorum=true', ...q, 'peerTlsVerifyHostname=false']).peerTlsVerifyHostname, false, "or zkgate's own key says so");
  t.equal(load(['peerTlsCertFile=peer.pem', 'peerTlsKeyFile=peer-key.pem', 'peerTlsCaFile=ca.pem']).peerTlsVerifyHostname, undefined, "zkgate's own peer TLS keys alone: not checked (off)");
  t.throws(() => load(['sslQuorum=true', 'ssl.quorum.keyStore.location=keystore.pem']), { key: 'ssl.quorum.trustStore.location', message: /sslQuorum=true needs/ });
});

t.test("ssl.enabledProtocols, ssl.protocol and ssl.ciphersuites become the TLS policy, in OpenSSL's names", async (t) => {
  const ks = ['ssl.keyStore.location=keystore.pem'];
  const suites = 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_AES_256_GCM_SHA384';
  t.match(load([...ks, 'ssl.enabledProtocols=TLSv1.3,TLSv1.2', `ssl.ciphersuites=${suites}`]), {
    tlsProtocols: ['TLSv1.2', 'TLSv1.3'],
    tlsCiphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:TLS_AES_256_GCM_SHA384',
  });
  t.same(load([...ks, 'ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']).tlsProtocols, ['TLSv1.2'], "TLSv1.2 suites alone: TLSv1.2 only, as Java would speak (OpenSSL would keep its TLSv1.3 suites)");
  t.same(load([...ks, 'ssl.ciphersuites=TLS_AES_128_GCM_SHA256']).tlsProtocols, ['TLSv1.3'], 'TLSv1.3 suites alone: TLSv1.3 only');
  t.throws(() => load([...ks, 'ssl.enabledProtocols=TLSv1.3', 'ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']), { key: 'ssl.ciphersuites', message: /none of these suites belongs to an enabled protocol \(TLSv1\.3\)/ });
  t.same(load([...ks, 'ssl.protocol=TLSv1.3']).tlsProtocols, ['TLSv1.3'], 'enabledProtocols defaults to protocol, as in ZooKeeper');
  t.same(load([...ks, 'ssl.protocol=TLSv1.3', 'ssl.enabledProtocols=TLSv1.2']).tlsProtocols, ['TLSv1.2'], 'and enabledProtocols wins over it');
  t.equal(load([...ks, 'ssl.protocol=TLS']).tlsProtocols, undefined, "protocol=TLS (Java's any version): no bound");
  t.same(load([...ks, 'tlsProtocols=TLSv1.2', 'ssl.protocol=TLSv1.3']).tlsProtocols, ['TLSv1.2'], "zkgate's own key wins");
  t.match(load([...ks, 'tlsCiphers=TLS_AES_128_GCM_SHA256', 'ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']), { tlsCiphers: 'TLS_AES_128_GCM_SHA256', tlsProtocols: undefined }, "and zkgate's own suites are not narrowed by ZooKeeper's");
  t.equal(load(['ssl.protocol=TLSv1.3']).tlsProtocols, undefined, 'without TLS on the client port they do not apply');
  const q = ['sslQuorum=true', 'ssl.quorum.keyStore.location=keystore.pem', 'ssl.quorum.trustStore.location=truststore.pem'];
  t.match(load([...q, 'ssl.quorum.enabledProtocols=TLSv1.3', 'ssl.quorum.ciphersuites=TLS_AES_128_GCM_SHA256']), {
    peerTlsProtocols: ['TLSv1.3'],
    peerTlsCiphers: 'TLS_AES_128_GCM_SHA256',
    tlsProtocols: undefined,
  });
  t.throws(() => load([...ks, 'ssl.ciphersuites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_NULL_SHA']), {
    key: 'ssl.ciphersuites',
    message: /TLS_RSA_WITH_NULL_SHA has no OpenSSL name zkgate knows; list the suites in OpenSSL's names under tlsCiphers instead/,
  }, 'a name it cannot translate is refused, not dropped (that would allow more than the operator wrote)');
  t.throws(() => load([...ks, 'ssl.enabledProtocols=TLSv1.1']), { key: 'ssl.enabledProtocols', message: /TLSv1\.1 is not offered; zkgate speaks TLSv1\.2 and TLSv1\.3/ });
});

t.test('what zkgate cannot read is refused naming the key, never served in plain text', async (t) => {
  const cases: [string[], string, RegExp][] = [
    [['ssl.keyStore.location=keystore.jks'], 'ssl.keyStore.location', /not a PEM file.*openssl pkcs12/],
    [['ssl.keyStore.location=keystore.pem', 'ssl.keyStore.type=JKS'], 'ssl.keyStore.type', /JKS is not supported/],
    [['ssl.quorum.trustStore.location=trust.p12'], 'ssl.quorum.trustStore.location', /not a PEM file/],
    [['ssl.keyStore.location=keystore.pem', 'ssl.keyStore.password=changeit'], 'ssl.keyStore.password', /encrypted private keys are not supported/],
    [['ssl.clientAuth=sometimes'], 'ssl.clientAuth', /need, want or none/],
    [['sslQuorum=yes'], 'sslQuorum', /true or false/],
  ];
  for (const [lines, key, message] of cases) t.throws(() => load(lines), { key, message }, lines.join(' '));
});

t.test('a node started from such a zoo.cfg serves HTTPS with the key and certificate in one file', async (t) => {
  const cfg = load(['ssl.keyStore.location=keystore.pem', 'ssl.trustStore.location=truststore.pem', 'ssl.clientAuth=want']);
  const s = await startTestServer({ tlsCertFile: cfg.tlsCertFile, tlsKeyFile: cfg.tlsKeyFile, tlsClientCaFile: cfg.tlsClientCaFile, tlsClientAuth: cfg.tlsClientAuth });
  t.teardown(() => s.destroy());
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${s.url}/v1/admin/ruok`, { ca: pki.ca.cert, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
  t.equal(status, 200, 'HTTPS, the certificate verified against the CA');
});
