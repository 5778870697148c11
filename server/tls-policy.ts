// Which TLS versions and cipher suites the client port and the peer links accept: tlsProtocols / tlsCiphers and
// peerTlsProtocols / peerTlsCiphers, and ZooKeeper's ssl[.quorum].enabledProtocols, .protocol and .ciphersuites read
// as them. Unset, Node's defaults apply (TLSv1.2 and TLSv1.3, its default cipher list). A ZooKeeper cipher name this
// table does not know exits 2 naming it rather than being dropped: serving a wider set of ciphers than the operator
// wrote would be a silent downgrade.
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from './config-values.js';

export type TlsProtocol = 'TLSv1.2' | 'TLSv1.3';

/** In order, oldest first: a set of them is given to Node as its lowest and highest. */
const PROTOCOLS: readonly TlsProtocol[] = ['TLSv1.2', 'TLSv1.3'];

export interface TlsPolicy {
  protocols?: TlsProtocol[];
  /** OpenSSL's cipher list syntax (TLSv1.3 suites by their TLS_ names), as Node's `ciphers` takes it. */
  ciphers?: string;
}

/** A comma-separated list of TLSv1.2 and TLSv1.3. */
export function parseProtocols(key: string, value: string): TlsProtocol[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new ConfigError(key, `${key}: name TLSv1.2, TLSv1.3 or both`);
  for (const p of list) {
    if (!PROTOCOLS.includes(p as TlsProtocol)) throw new ConfigError(key, `${key}: ${p} is not offered; zkgate speaks TLSv1.2 and TLSv1.3`);
  }
  return PROTOCOLS.filter((p) => list.includes(p));
}

/** An OpenSSL cipher list, checked now: one that names no cipher this Node knows exits 2 instead of failing every handshake. */
export function parseCiphers(key: string, value: string): string {
  const v = value.trim();
  if (v === '') throw new ConfigError(key, `${key}: empty; leave it out for Node's default cipher list`);
  try {
    createSecureContext({ ciphers: v });
  } catch (e) {
    throw new ConfigError(key, `${key}: ${(e as Error).message} in ${JSON.stringify(v)} (OpenSSL names, e.g. ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256)`);
  }
  return v;
}

/** What a policy adds to a TLS server's or dialer's options. */
export function policyOptions(p: TlsPolicy): Pick<SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers'> {
  const out: Pick<SecureContextOptions, 'minVersion' | 'maxVersion' | 'ciphers'> = {};
  if (p.protocols !== undefined && p.protocols.length > 0) {
    out.minVersion = p.protocols[0];
    out.maxVersion = p.protocols[p.protocols.length - 1];
  }
  if (p.ciphers !== undefined) out.ciphers = p.ciphers;
  return out;
}

/** ZooKeeper's ssl.protocol: Java's SSLContext protocol, where `TLS` means every version the runtime offers. */
export function zkProtocol(key: string, value: string): TlsProtocol[] | undefined {
  return value.trim() === 'TLS' ? undefined : parseProtocols(key, value);
}

/** The TLSv1.2 suites as Java (and IANA) name them, with OpenSSL's names; TLSv1.3 suites have the same name in both. */
const IANA_TO_OPENSSL = new Map<string, string>([
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384', 'ECDHE-ECDSA-AES256-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384', 'ECDHE-RSA-AES256-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'DHE-RSA-AES128-GCM-SHA256'],
  ['TLS_DHE_RSA_WITH_AES_256_GCM_SHA384', 'DHE-RSA-AES256-GCM-SHA384'],
  ['TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'DHE-RSA-CHACHA20-POLY1305'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
]);
const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256']);

/** ZooKeeper's ssl.ciphersuites: Java's comma-separated names, as an OpenSSL list. */
export function zkCiphers(key: string, value: string): string {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out = names.map((n) => {
    const name = TLS13_SUITES.has(n) ? n : IANA_TO_OPENSSL.get(n);
    if (name === undefined) throw new ConfigError(key, `${key}: ${n} has no OpenSSL name zkgate knows; list the suites in OpenSSL's names under ${key.startsWith('ssl.quorum.') ? 'peerTlsCiphers' : 'tlsCiphers'} instead`);
    return name;
  });
  return parseCiphers(key, out.join(':'));
}

/**
 * The versions a ZooKeeper (Java) server would speak with these protocols and suites: Java enables a version only if
 * a listed suite belongs to it, where OpenSSL keeps its default TLSv1.3 suites when the list names none. So a
 * ciphersuites list of TLSv1.2 suites alone means TLSv1.2 only, as it did in ZooKeeper.
 */
export function zkProtocols(key: string, protocols: TlsProtocol[] | undefined, ciphers: string | undefined): TlsProtocol[] | undefined {
  if (ciphers === undefined) return protocols;
  const names = ciphers.split(':');
  const usable = (protocols ?? PROTOCOLS).filter((p) => names.some((n) => n.startsWith('TLS_') === (p === 'TLSv1.3')));
  if (usable.length === 0) throw new ConfigError(key, `${key}: none of these suites belongs to an enabled protocol (${(protocols ?? PROTOCOLS).join(', ')})`);
  return usable;
}
