// HTTPS (and WSS) on the client port, as etcd's --cert-file/--key-file/--trusted-ca-file and ZooKeeper's
// secureClientPort with PEM stores. With a client CA, a client certificate it signed authenticates the connection as
// ZooKeeper's X509AuthenticationProvider does: ACL id `x509:<subject DN>`, the DN written as RFC 2253 (CN first), so
// ACLs read as in ZooKeeper.
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import { ConfigError } from './config-values.js';
import type { AuthId } from './tree/types.js';
import { policyOptions, type TlsPolicy } from './tls-policy.js';

export interface TlsSettings {
  certFile: string;
  keyFile: string;
  /** Client certificates signed by this CA authenticate as x509; `need` refuses a client without one. */
  clientCaFile?: string;
  clientAuth: 'need' | 'want';
  policy: TlsPolicy;
}

function read(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(key, `${key}: cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Whether a PEM file holds at least one certificate that parses. */
function hasCertificate(pem: Buffer): boolean {
  const text = pem.toString('latin1');
  const begin = text.indexOf('-----BEGIN CERTIFICATE-----');
  if (begin < 0) return false;
  try {
    new X509Certificate(text.slice(begin));
    return true;
  } catch {
    return false;
  }
}

/** PEM files read and checked now: a file that is missing or not PEM, or a key not matching, names its config key. */
function loadPem(files: { cert: [string, string]; key: [string, string]; ca?: [string, string] }): { cert: Buffer; key: Buffer; ca?: Buffer } {
  const cert = read(...files.cert);
  const key = read(...files.key);
  const ca = files.ca && read(...files.ca);
  for (const [k, opts] of [
    [files.cert[0], { cert }],
    [files.key[0], { cert, key }],
    ...(files.ca ? [[files.ca[0], { ca }] as const] : []),
  ] as const) {
    try {
      createSecureContext(opts);
    } catch (e) {
      throw new ConfigError(k, `${k}: ${(e as Error).message}`);
    }
  }
  // createSecureContext takes a CA file with no certificate in it (empty, half-written, not PEM) and then trusts
  // nobody: with tlsClientAuth=need every client is refused. Such a file is a bad value, at start and at a reload.
  // Checked after the certificate and key, so a bad certificate is named first.
  if (files.ca && ca && !hasCertificate(ca)) throw new ConfigError(files.ca[0], `${files.ca[0]}: ${files.ca[1]} holds no PEM certificate`);
  return { cert, key, ca };
}

/** The HTTPS server's options, read now (server start). */
export function tlsServerOptions(t: TlsSettings): ServerOptions {
  const { cert, key, ca } = loadPem({
    cert: ['tlsCertFile', t.certFile],
    key: ['tlsKeyFile', t.keyFile],
    ca: t.clientCaFile === undefined ? undefined : ['tlsClientCaFile', t.clientCaFile],
  });
  const policy = policyOptions(t.policy);
  if (ca === undefined) return { cert, key, ...policy };
  return { cert, key, ca, requestCert: true, rejectUnauthorized: t.clientAuth === 'need', ...policy };
}

/**
 * Mutual TLS between ensemble peers: each presents `cert` and accepts only a peer whose certificate `ca` signed, over
 * the versions and ciphers of peerTlsProtocols / peerTlsCiphers (the same both ways: they go into the server's and
 * the dialer's options).
 */
export interface PeerTls extends Pick<SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers'> {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export interface PeerTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
  policy: TlsPolicy;
}

export function peerTlsMaterial(files: PeerTlsFiles): PeerTls {
  const { cert, key, ca } = loadPem({ cert: ['peerTlsCertFile', files.certFile], key: ['peerTlsKeyFile', files.keyFile], ca: ['peerTlsCaFile', files.caFile] });
  return { cert, key, ca: ca as Buffer, ...policyOptions(files.policy) };
}

/**
 * A certificate subject as RFC 2253 writes it (Java's X500Principal.getName()): the most specific part first, each
 * RDN in its certificate's order, a multi-valued one joined by `+`. From X509Certificate.subject (OpenSSL's text: an
 * RDN a line, in order, values escaped as RFC 2253 asks, a multi-valued RDN's parts joined by ` + `), not from the
 * TLS socket's subject object, which groups repeated attributes and splits multi-valued RDNs: there
 * `OU=b,CN=carol,OU=a` and `OU=a,CN=carol,OU=b` came out one identity.
 */
export function subjectDn(subject: string): string {
  return subject
    .split('\n')
    .filter((l) => l !== '')
    .map((rdn) => rdn.split(' + ').join('+'))
    .reverse()
    .join(',');
}

/** The identity last read from each connection's certificate: parsed once, not at every request it carries. */
const identities = new WeakMap<TLSSocket, { raw: Buffer; id: AuthId }>();

/** `x509:<subject DN>` for a connection whose client certificate the configured CA verified. */
export function x509Identity(socket: Socket): AuthId | undefined {
  const tls = socket as TLSSocket;
  if (tls.authorized !== true) return undefined;
  const cert = tls.getPeerCertificate();
  if (!cert || !cert.raw) return undefined;
  const known = identities.get(tls);
  // Compared, not assumed: a TLS 1.2 renegotiation may bring another certificate on the same connection.
  if (known && known.raw.equals(cert.raw)) return known.id;
  const id: AuthId = Object.freeze({ scheme: 'x509', id: subjectDn(new X509Certificate(cert.raw).subject) });
  identities.set(tls, { raw: cert.raw, id });
  return id;
}

/** When a PEM chain's first certificate expires, in Unix seconds (for zkgate_tls_certificate_not_after_seconds). */
export function certNotAfter(pem: string | Buffer | undefined): number | undefined {
  if (pem === undefined) return undefined;
  try {
    return Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000);
  } catch {
    return undefined;
  }
}
