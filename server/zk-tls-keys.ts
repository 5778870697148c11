// ZooKeeper's own TLS keys in zoo.cfg, read as zkgate's, so that a ZooKeeper 3.8 configuration with PEM stores keeps
// its TLS here instead of being served in plain text with "unknown key" warnings:
//   ssl.keyStore.location (a PEM with the key and the certificate chain)  → tlsCertFile and tlsKeyFile
//   ssl.trustStore.location (PEM CA certificates)                        → tlsClientCaFile
//   ssl.clientAuth=need|want|none                                        → tlsClientAuth (none: no client CA)
//   sslQuorum=true with ssl.quorum.keyStore.location / trustStore.location → peerTlsCertFile, KeyFile, CaFile
//   ssl[.quorum].enabledProtocols, else ssl[.quorum].protocol              → tlsProtocols / peerTlsProtocols
//   ssl[.quorum].ciphersuites (Java's names)                             → tlsCiphers / peerTlsCiphers (OpenSSL's)
//   ssl.quorum.hostnameVerification (default true with sslQuorum)        → peerTlsVerifyHostname
// zkgate reads PEM only: a JKS or PKCS#12 store, or a store password (an encrypted key), is refused naming the key,
// with the command that converts it. zkgate's own keys win over these whatever their order.
import type { Config } from './config.js';
import { ConfigError, bool, pathValue } from './config-values.js';
import { parseProtocols, zkCiphers, zkProtocol, zkProtocols, type TlsProtocol } from './tls-policy.js';

export interface ZkTlsKeys {
  keyStore?: string;
  trustStore?: string;
  clientAuth?: 'need' | 'want' | 'none';
  sslQuorum?: boolean;
  quorumKeyStore?: string;
  quorumTrustStore?: string;
  /** zoo.cfg set tlsClientAuth itself, which then wins over ssl.clientAuth. */
  ownClientAuth?: boolean;
  /** ssl.protocol, ssl.enabledProtocols and ssl.ciphersuites, and their ssl.quorum. twins. */
  policy?: ZkTlsPolicy;
  quorumPolicy?: ZkTlsPolicy;
  quorumHostnameVerification?: boolean;
}

interface ZkTlsPolicy {
  /** `null`: any version (ssl.protocol=TLS). */
  protocol?: TlsProtocol[] | null;
  enabledProtocols?: TlsProtocol[];
  ciphers?: string;
}

/** The protocol and cipher keys, after `ssl.` or `ssl.quorum.`. */
function readPolicyKey(p: ZkTlsPolicy, name: string, key: string, value: string): boolean {
  switch (name) {
    case 'protocol':
      p.protocol = zkProtocol(key, value) ?? null;
      return true;
    case 'enabledProtocols':
      p.enabledProtocols = parseProtocols(key, value);
      return true;
    case 'ciphersuites':
      p.ciphers = zkCiphers(key, value);
      return true;
    default:
      return false;
  }
}

/**
 * ZooKeeper's versions and suites, for what zkgate's own keys left unset. As in ZooKeeper, enabledProtocols defaults
 * to protocol, and only versions a listed suite belongs to are spoken (unless zkgate's own key chose the suites).
 */
function applyPolicy(p: ZkTlsPolicy | undefined, own: { protocols?: TlsProtocol[]; ciphers?: string }, ciphersKey: string): { protocols?: TlsProtocol[]; ciphers?: string } {
  const zkCiphersUsed = own.ciphers === undefined ? p?.ciphers : undefined;
  return {
    protocols: own.protocols ?? zkProtocols(ciphersKey, p?.enabledProtocols ?? p?.protocol ?? undefined, zkCiphersUsed),
    ciphers: own.ciphers ?? zkCiphersUsed,
  };
}

/** The fields this fills in. */
export type TlsTarget = Pick<
  Config,
  | 'tlsCertFile'
  | 'tlsKeyFile'
  | 'tlsClientCaFile'
  | 'tlsClientAuth'
  | 'peerTlsCertFile'
  | 'peerTlsKeyFile'
  | 'peerTlsCaFile'
  | 'tlsProtocols'
  | 'tlsCiphers'
  | 'peerTlsProtocols'
  | 'peerTlsCiphers'
  | 'peerTlsVerifyHostname'
>;

const NOT_PEM = /\.(jks|p12|pfx|bcfks)$/i;
const CONVERT =
  'zkgate reads PEM only: convert the store, e.g. `keytool -importkeystore -srckeystore ks.jks -destkeystore ks.p12 -deststoretype PKCS12` then `openssl pkcs12 -in ks.p12 -nodes -out ks.pem`';

/** The store locations and where each goes. */
const STORES = new Map<string, 'keyStore' | 'trustStore' | 'quorumKeyStore' | 'quorumTrustStore'>([
  ['ssl.keyStore.location', 'keyStore'],
  ['ssl.trustStore.location', 'trustStore'],
  ['ssl.quorum.keyStore.location', 'quorumKeyStore'],
  ['ssl.quorum.trustStore.location', 'quorumTrustStore'],
]);

function store(key: string, value: string, baseDir: string): string {
  if (NOT_PEM.test(value)) throw new ConfigError(key, `${key}: ${value} is not a PEM file. ${CONVERT}`);
  return pathValue(key, value, baseDir);
}

/** Takes `key` if it is one of ZooKeeper's TLS keys zkgate understands; false for any other key. */
export function readZkTlsKey(acc: ZkTlsKeys, key: string, value: string, baseDir: string): boolean {
  const field = STORES.get(key);
  if (field !== undefined) {
    acc[field] = store(key, value, baseDir);
    return true;
  }
  switch (key) {
    case 'ssl.keyStore.type':
    case 'ssl.trustStore.type':
    case 'ssl.quorum.keyStore.type':
    case 'ssl.quorum.trustStore.type':
      if (value.toUpperCase() !== 'PEM') throw new ConfigError(key, `${key}: ${value} is not supported. ${CONVERT}`);
      return true;
    case 'ssl.keyStore.password':
    case 'ssl.quorum.keyStore.password':
      if (value !== '') throw new ConfigError(key, `${key}: encrypted private keys are not supported; decrypt it once (\`openssl pkey -in key.pem -out plain.pem\`) and keep that file readable by the server's user only`);
      return true;
    case 'ssl.trustStore.password':
    case 'ssl.quorum.trustStore.password':
      return true; // a PEM trust store has no password; ZooKeeper's configs often carry one anyway
    case 'ssl.clientAuth':
      if (value !== 'need' && value !== 'want' && value !== 'none') throw new ConfigError(key, `ssl.clientAuth: need, want or none, got ${JSON.stringify(value)}`);
      acc.clientAuth = value;
      return true;
    case 'sslQuorum':
      acc.sslQuorum = bool(key, value);
      return true;
    case 'ssl.quorum.hostnameVerification':
      acc.quorumHostnameVerification = bool(key, value);
      return true;
    default:
      if (key.startsWith('ssl.quorum.')) return readPolicyKey((acc.quorumPolicy ??= {}), key.slice('ssl.quorum.'.length), key, value);
      if (key.startsWith('ssl.')) return readPolicyKey((acc.policy ??= {}), key.slice('ssl.'.length), key, value);
      return false;
  }
}

/** After the whole file: fills what zkgate's own keys left unset. */
export function applyZkTlsKeys(acc: ZkTlsKeys, cfg: TlsTarget): void {
  if (acc.keyStore !== undefined) {
    cfg.tlsCertFile ??= acc.keyStore;
    cfg.tlsKeyFile ??= acc.keyStore;
  }
  if (acc.trustStore !== undefined && acc.clientAuth !== 'none') cfg.tlsClientCaFile ??= acc.trustStore;
  if (!acc.ownClientAuth && (acc.clientAuth === 'need' || acc.clientAuth === 'want')) cfg.tlsClientAuth = acc.clientAuth;
  if (acc.sslQuorum) {
    if (acc.quorumKeyStore === undefined) throw new ConfigError('ssl.quorum.keyStore.location', 'sslQuorum=true needs ssl.quorum.keyStore.location (a PEM with the key and certificate chain)');
    if (acc.quorumTrustStore === undefined) throw new ConfigError('ssl.quorum.trustStore.location', 'sslQuorum=true needs ssl.quorum.trustStore.location (the PEM CA certificates peers are checked against)');
    cfg.peerTlsCertFile ??= acc.quorumKeyStore;
    cfg.peerTlsKeyFile ??= acc.quorumKeyStore;
    cfg.peerTlsCaFile ??= acc.quorumTrustStore;
  }
  // Like ZooKeeper's, they matter only where TLS is on.
  if (cfg.tlsCertFile !== undefined) {
    ({ protocols: cfg.tlsProtocols, ciphers: cfg.tlsCiphers } = applyPolicy(acc.policy, { protocols: cfg.tlsProtocols, ciphers: cfg.tlsCiphers }, 'ssl.ciphersuites'));
  }
  if (cfg.peerTlsCertFile !== undefined) {
    ({ protocols: cfg.peerTlsProtocols, ciphers: cfg.peerTlsCiphers } = applyPolicy(acc.quorumPolicy, { protocols: cfg.peerTlsProtocols, ciphers: cfg.peerTlsCiphers }, 'ssl.quorum.ciphersuites'));
    // ZooKeeper checks peers' host names unless told not to; zkgate's own peer TLS keys do not, unless told to.
    cfg.peerTlsVerifyHostname ??= acc.quorumHostnameVerification ?? (acc.sslQuorum ? true : undefined);
  }
}
