// zkCli's getAcl and setAcl.
import type { Command } from 'commander';
import type { ClientOptions } from './http.js';
import { znodeUrl } from './http.js';
import { checkPath, clientCommand, intOption, makeClient } from './common.js';
import { formatAcl, formatStat, line, runAction, type AclJson, type Stat } from './output.js';
import { UsageError } from './errors.js';
import { splitAcl } from './znodes.js';

interface AclBody {
  acl: AclJson[];
  stat: Stat;
}

/** `scheme:id:perms` → the JSON entry; the id is everything between the first and last colon (digest ids hold one). */
export function aclEntry(s: string): AclJson {
  const first = s.indexOf(':');
  const last = s.lastIndexOf(':');
  if (first <= 0 || last === first) throw new UsageError(`ACL entries look like scheme:id:perms, got ${JSON.stringify(s)}`);
  return { scheme: s.slice(0, first), id: s.slice(first + 1, last), perms: s.slice(last + 1) };
}

export function registerAclCommands(program: Command): void {
  clientCommand(program, 'getAcl', 'print the ACL of a znode (zkCli getAcl)')
    .alias('getacl')
    .argument('<path>')
    .option('-s', 'also print the stat')
    .action((path: string, o: ClientOptions & { s?: boolean }) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        const r = await c.call<AclBody>('GET', znodeUrl('/v1/acl', checkPath(path)));
        if (o.json) return line(r.raw);
        line(formatAcl(r.value.acl));
        if (o.s) line(formatStat(r.value.stat));
      }),
    );

  clientCommand(program, 'setAcl', 'replace the ACL of a znode (zkCli setAcl)')
    .alias('setacl')
    .argument('<path>')
    .argument('<acl>', 'scheme:id:perms[,scheme:id:perms...], e.g. world:anyone:r,digest:bob:<hash>:cdrwa')
    .option('-s', 'print the new stat')
    .option('-v <version>', 'only if the ACL version (aversion) is this')
    .action((path: string, acl: string, o: ClientOptions & { s?: boolean; v?: string }) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        checkPath(path);
        const entries = splitAcl(acl).map(aclEntry);
        const version = intOption('-v', o.v);
        const query: [string, string][] = version !== undefined ? [['version', String(version)]] : [];
        const r = await c.call<AclBody>('PUT', znodeUrl('/v1/acl', path), {
          query,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ acl: entries }),
        });
        if (o.json) return line(r.raw);
        if (o.s) line(formatStat(r.value.stat));
      }),
    );
}
