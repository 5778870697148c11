// ACL rules (ZooKeeper's checkACL and fixupACL): parsing `scheme:id:perms`, validating, expanding `auth`, checking.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { ZkError } from '../errors.js';
import { PERM_ALL, PERM_BITS, type Acl, type AuthId } from './types.js';

export const OPEN_ACL_UNSAFE: Acl[] = [{ scheme: 'world', id: 'anyone', perms: PERM_ALL }];
export const READ_ACL_UNSAFE: Acl[] = [{ scheme: 'world', id: 'anyone', perms: PERM_BITS.r }];

/** DigestAuthenticationProvider.generateDigest: `user:base64(sha1("user:password"))`. */
export function digestOf(user: string, password: string): string {
  return user + ':' + createHash('sha1').update(`${user}:${password}`, 'utf8').digest('base64');
}

export function permsToString(perms: number): string {
  let s = '';
  for (const p of ['c', 'd', 'r', 'w', 'a'] as const) if (perms & PERM_BITS[p]) s += p;
  return s;
}

export function parsePerms(s: string): number {
  let bits = 0;
  for (const ch of s) {
    const b = PERM_BITS[ch as keyof typeof PERM_BITS];
    if (b === undefined) throw new ZkError('InvalidACL', `unknown permission ${JSON.stringify(ch)} in ${JSON.stringify(s)} (use a subset of cdrwa)`);
    bits |= b;
  }
  return bits;
}

/** `scheme:id:perms`; the id may itself contain ':' (digest user:hash, IPv6). */
export function parseAclString(s: string): Acl {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first < 0 || first === last) throw new ZkError('InvalidACL', `ACL ${JSON.stringify(s)} is not scheme:id:perms`);
  return { scheme: s.slice(0, first), id: s.slice(first + 1, last), perms: parsePerms(s.slice(last + 1)) };
}

/**
 * An IPv4 address as ZooKeeper's IPAuthenticationProvider reads one: four decimal numbers up to 255, leading zeros
 * allowed (`127.0.0.01` is 127.0.0.1, not octal). Node's isIP refuses those, and ACLs copied from ZooKeeper hold them.
 */
function ipv4Bytes(addr: string): number[] | null {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(addr)) return null;
  const bytes = addr.split('.').map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function ipFamily(addr: string): 0 | 4 | 6 {
  return ipv4Bytes(addr) ? 4 : isIP(addr) === 6 ? 6 : 0;
}

function validIpId(id: string): boolean {
  const [addr, bits, ...rest] = id.split('/');
  if (rest.length > 0 || addr === undefined) return false;
  const family = ipFamily(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d+$/.test(bits)) return false;
  const n = Number(bits);
  return n >= 0 && n <= (family === 4 ? 32 : 128);
}

/**
 * fixupACL: rejects empty lists, unknown schemes and malformed ids (InvalidACL), expands `auth` to the
 * request's authenticated digest ids, and drops duplicates.
 */
export function fixupAcl(acl: Acl[], auth: AuthId[]): Acl[] {
  if (acl.length === 0) throw new ZkError('InvalidACL', 'ACL list is empty');
  const out: Acl[] = [];
  const seen = new Set<string>();
  const push = (a: Acl) => {
    const k = `${a.scheme}\u0000${a.id}\u0000${a.perms}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(a);
    }
  };
  for (const a of acl) {
    if (!Number.isInteger(a.perms) || a.perms < 0 || a.perms > PERM_ALL) throw new ZkError('InvalidACL', `bad perms ${a.perms}`);
    switch (a.scheme) {
      case 'world':
        if (a.id !== 'anyone') throw new ZkError('InvalidACL', `world scheme takes the id "anyone", not ${JSON.stringify(a.id)}`);
        push(a);
        break;
      case 'digest': {
        const parts = a.id.split(':');
        if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw new ZkError('InvalidACL', `digest id must be user:base64(sha1(user:password)), got ${JSON.stringify(a.id)}`);
        push(a);
        break;
      }
      case 'ip':
        if (!validIpId(a.id)) throw new ZkError('InvalidACL', `ip id must be addr or addr/bits, got ${JSON.stringify(a.id)}`);
        push(a);
        break;
      case 'x509':
        if (a.id === '') throw new ZkError('InvalidACL', 'x509 id must be a certificate subject, e.g. CN=alice,O=Example');
        push(a);
        break;
      case 'auth': {
        // Every identity the request proved (ZooKeeper's authenticated providers); an address proves nothing.
        const ids = auth.filter((x) => x.scheme === 'digest' || x.scheme === 'x509');
        if (ids.length === 0) throw new ZkError('InvalidACL', 'auth scheme needs an authenticated user (Authorization: Basic, or a client certificate)');
        for (const x of ids) push({ scheme: x.scheme, id: x.id, perms: a.perms });
        break;
      }
      default:
        throw new ZkError('InvalidACL', `unknown ACL scheme ${JSON.stringify(a.scheme)}`);
    }
  }
  return out;
}

function ipToBytes(addr: string): number[] | null {
  const v4 = ipv4Bytes(addr);
  if (v4) return v4;
  if (isIP(addr) !== 6) return null;
  const v4mapped = addr.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  if (v4mapped && v4mapped[1]) return ipToBytes(v4mapped[1]);
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const bytes: number[] = [];
  for (const g of groups) {
    const v = parseInt(g || '0', 16);
    bytes.push(v >> 8, v & 0xff);
  }
  return bytes;
}

/** IPAuthenticationProvider.matches: the most significant `bits` of the address must agree. */
export function ipMatches(aclId: string, clientIp: string): boolean {
  const [addr, bitsStr] = aclId.split('/') as [string, string | undefined];
  const a = ipToBytes(addr);
  const c = ipToBytes(clientIp);
  if (!a || !c || a.length !== c.length) return false;
  const bits = bitsStr === undefined ? a.length * 8 : Number(bitsStr);
  for (let i = 0; i < a.length; i++) {
    const take = Math.max(0, Math.min(8, bits - i * 8));
    if (take === 0) break;
    const mask = (0xff << (8 - take)) & 0xff;
    if (((a[i] ?? 0) & mask) !== ((c[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** checkACL: an empty list allows everything; `super` skips the check; otherwise any matching entry with the bit. */
export function aclAllows(acl: Acl[], perm: number, auth: AuthId[]): boolean {
  if (acl.length === 0) return true;
  for (const id of auth) if (id.scheme === 'super') return true;
  for (const a of acl) {
    if ((a.perms & perm) === 0) continue;
    if (a.scheme === 'world' && a.id === 'anyone') return true;
    for (const id of auth) {
      if ((a.scheme === 'digest' || a.scheme === 'x509') && id.scheme === a.scheme && a.id === id.id) return true;
      if (a.scheme === 'ip' && id.scheme === 'ip' && ipMatches(a.id, id.id)) return true;
    }
  }
  return false;
}

export function requirePerm(acl: Acl[], perm: number, auth: AuthId[], path: string): void {
  if (!aclAllows(acl, perm, auth)) throw new ZkError('NoAuth', undefined, { path });
}

/** getACL without ADMIN masks digest hashes, as FinalRequestProcessor does. */
export function maskedAcl(acl: Acl[], canAdmin: boolean): Acl[] {
  if (canAdmin) return acl;
  return acl.map((a) => (a.scheme === 'digest' ? { ...a, id: a.id.split(':')[0] + ':x' } : a));
}

export function aclToJson(acl: Acl[]): { scheme: string; id: string; perms: string }[] {
  return acl.map((a) => ({ scheme: a.scheme, id: a.id, perms: permsToString(a.perms) }));
}
