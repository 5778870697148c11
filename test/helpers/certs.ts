// Test certificates made at test time (nothing secret is committed): a CA, a server certificate for 127.0.0.1 and
// localhost, client certificates and ensemble peers' certificates, all signed by that CA. Keys come from Node's crypto (fast); node-forge only
// builds and signs the X.509 structures. Also the zoo.cfg keys that name such files, and a TLS handshake probe.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import forge from 'node-forge';

export interface Pem {
  cert: string;
  key: string;
}

let serial = 1;

function keyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const sk = forge.pki.privateKeyFromPem(pem);
  return { privateKey: sk, publicKey: forge.pki.setRsaPublicKey(sk.n, sk.e), pem };
}

function build(subject: forge.pki.CertificateField[], issuer: { subject: forge.pki.CertificateField[]; key: forge.pki.rsa.PrivateKey } | null, extensions: object[], validHours = 24): Pem & { sk: forge.pki.rsa.PrivateKey; subject: forge.pki.CertificateField[] } {
  const k = keyPair();
  const c = forge.pki.createCertificate();
  c.publicKey = k.publicKey;
  c.serialNumber = String(serial++).padStart(2, '0');
  c.validity.notBefore = new Date(Date.now() - 60_000);
  c.validity.notAfter = new Date(Date.now() + validHours * 3600_000);
  c.setSubject(subject);
  c.setIssuer(issuer ? issuer.subject : subject);
  c.setExtensions(extensions);
  c.sign(issuer ? issuer.key : k.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(c), key: k.pem, sk: k.privateKey, subject };
}

export interface TestPki {
  ca: Pem;
  server: Pem;
  /** A client certificate for `subject` (attributes in certificate order: C, O, OU, CN, …), signed by the CA. */
  client(subject: [string, string][]): Pem;
  /**
   * An ensemble peer's certificate: it both accepts (serverAuth) and dials (clientAuth), signed by the CA; with
   * `names`, a subjectAltName of those host names and IP addresses.
   */
  peer(cn: string, names?: string[]): Pem;
  /** Writes a PEM to `dir` and returns its path. */
  file(dir: string, name: string, pem: string): string;
}

/** `validHours`: how long the server certificate is valid (the others: 24 h). */
export function makePki(validHours = 24): TestPki {
  const ca = build([{ shortName: 'CN', value: 'zkgate test CA' }], null, [
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true },
  ]);
  const issuer = { subject: ca.subject, key: ca.sk };
  const server = build([{ shortName: 'CN', value: 'localhost' }], issuer, [
    { name: 'basicConstraints', cA: false },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ], validHours);
  return {
    ca,
    server,
    client: (subject) =>
      build(
        subject.map(([shortName, value]) => ({ shortName, value })),
        issuer,
        [
          { name: 'basicConstraints', cA: false },
          { name: 'extKeyUsage', clientAuth: true },
        ],
      ),
    peer: (cn, names) =>
      build([{ shortName: 'CN', value: cn }], issuer, [
        { name: 'basicConstraints', cA: false },
        { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
        ...(names ? [{ name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) }] : []),
      ]),
    file: (dir, name, pem) => {
      const p = join(dir, name);
      writeFileSync(p, pem);
      return p;
    },
  };
}

/**
 * zoo.cfg lines for peer TLS: `pki`'s CA and a peer certificate for `cn`, written to `dir` as `<prefix>peer.pem`,
 * `<prefix>peer-key.pem` and `<prefix>ca.pem`.
 */
export function peerTlsLines(dir: string, pki: TestPki, cn: string, prefix = '', names?: string[]): string[] {
  const peer = pki.peer(cn, names);
  return [
    `peerTlsCertFile=${pki.file(dir, `${prefix}peer.pem`, peer.cert)}`,
    `peerTlsKeyFile=${pki.file(dir, `${prefix}peer-key.pem`, peer.key)}`,
    `peerTlsCaFile=${pki.file(dir, `${prefix}ca.pem`, pki.ca.cert)}`,
  ];
}

/** The same with a fresh CA and one certificate every member shows (the CA decides; names are not checked): for
 * harnesses that only need the links encrypted (Jepsen, the ensemble bench). */
export function sharedPeerTlsLines(dir: string, cn: string): string[] {
  return peerTlsLines(dir, makePki(), cn);
}

/** The client port's TLS keys: `pki`'s server certificate, its key and the CA, written to `dir` with names after `prefix`. */
export function serverTlsFiles(dir: string, pki: TestPki, prefix = ''): { tlsCertFile: string; tlsKeyFile: string; tlsClientCaFile: string } {
  return {
    tlsCertFile: pki.file(dir, `${prefix}server.pem`, pki.server.cert),
    tlsKeyFile: pki.file(dir, `${prefix}server-key.pem`, pki.server.key),
    tlsClientCaFile: pki.file(dir, `${prefix}ca.pem`, pki.ca.cert),
  };
}

/** A TLS handshake (to 127.0.0.1 unless `opts` say otherwise): the version and suite it settles on, or its error. */
export function tlsHandshake(opts: ConnectionOptions): Promise<{ protocol: string | null; cipher: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', ...opts }, () => {
      resolve({ protocol: s.getProtocol(), cipher: s.getCipher().name });
      s.destroy();
    });
    s.once('error', reject);
  });
}
