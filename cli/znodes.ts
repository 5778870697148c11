// zkCli's znode commands: ls, get, stat, create, set, delete, deleteall, sync.
import type { Command } from 'commander';
import type { ClientOptions } from './http.js';
import { znodeUrl } from './http.js';
import { checkPath, clientCommand, intOption, makeClient } from './common.js';
import { formatStat, line, out, runAction, type Stat } from './output.js';
import { UsageError } from './errors.js';
import { listRecursive } from './tree.js';
import { deleteAll } from './deleteall.js';
import { listAllChildren } from './children.js';

interface DataBody {
  path: string;
  data: string;
  encoding: 'utf8' | 'base64';
  stat: Stat;
}
interface PathStat {
  path: string;
  stat: Stat;
}

type Opts = ClientOptions & Record<string, string | boolean | string[] | undefined>;

export function registerZnodeCommands(program: Command): void {
  clientCommand(program, 'ls', 'list the children of a znode (zkCli ls)')
    .argument('<path>')
    .option('-s', 'also print the stat')
    .option('-R', 'list the whole subtree, one full path a line')
    .action((path: string, o: Opts) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        checkPath(path);
        if (o.R) return listRecursive(c, path, o.json === true);
        const r = await listAllChildren(c, path);
        if (o.json) return line(r.raw);
        line(`[${r.body.children.join(', ')}]`);
        if (o.s) line(formatStat(r.body.stat));
      }),
    );

  clientCommand(program, 'get', 'print the data of a znode (zkCli get)')
    .argument('<path>')
    .option('-s', 'also print the stat')
    .action((path: string, o: Opts) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        const r = await c.call<DataBody>('GET', znodeUrl('/v1/znodes', checkPath(path)));
        if (o.json) return line(r.raw);
        out(r.value.encoding === 'base64' ? Buffer.from(r.value.data, 'base64') : r.value.data);
        line();
        if (o.s) line(formatStat(r.value.stat));
      }),
    );

  clientCommand(program, 'stat', 'print the stat of a znode (zkCli stat)')
    .argument('<path>')
    .action((path: string, o: Opts) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        const r = await c.call<PathStat>('GET', znodeUrl('/v1/znodes', checkPath(path)), { query: [['stat', '']] });
        if (o.json) return line(r.raw);
        line(formatStat(r.value.stat));
      }),
    );

  clientCommand(program, 'create', 'create a znode (zkCli create); -e uses a session closed when the command exits')
    .argument('<path>')
    .argument('[data]', 'the data (UTF-8)', '')
    .argument('[acl]', 'scheme:id:perms[,scheme:id:perms...] (default world:anyone:cdrwa)')
    .option('-s', 'sequential')
    .option('-e', 'ephemeral (gone when this command exits)')
    .option('-c', 'container')
    .option('-t <ttl>', 'TTL in milliseconds (persistent node with TTL)')
    .action((path: string, data: string, acl: string | undefined, o: Opts) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        checkPath(path);
        const query: [string, string][] = [];
        if (o.s) query.push(['sequential', '']);
        if (o.e) query.push(['ephemeral', '']);
        if (o.c) query.push(['container', '']);
        const ttl = intOption('-t', o.t as string | undefined);
        if (ttl !== undefined) query.push(['ttl', String(ttl)]);
        if (o.e && (o.c || ttl !== undefined)) throw new UsageError('-e cannot be combined with -c or -t');
        for (const a of acl ? splitAcl(acl) : []) query.push(['acl', a]);
        let session: string | undefined;
        try {
          const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
          if (o.e) {
            session = (await c.call<{ sessionId: string }>('POST', '/v1/sessions', { headers: { 'content-type': 'application/json' }, body: '{}' })).value.sessionId;
            headers['zk-session'] = session;
          }
          const r = await c.call<PathStat>('POST', znodeUrl('/v1/znodes', path), { query, headers, body: data });
          if (o.json) line(r.raw);
          else line(`Created ${r.value.path}`);
        } finally {
          if (session) await c.request('DELETE', `/v1/sessions/${session}`).catch(() => undefined);
        }
      }),
    );

  clientCommand(program, 'set', 'replace the data of a znode (zkCli set)')
    .argument('<path>')
    .argument('<data>')
    .option('-s', 'print the new stat')
    .option('-v <version>', 'only if the data version is this (compare-and-set)')
    .action((path: string, data: string, o: Opts) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        const version = intOption('-v', o.v as string | undefined);
        const query: [string, string][] = version !== undefined ? [['version', String(version)]] : [];
        const r = await c.call<PathStat>('PUT', znodeUrl('/v1/znodes', checkPath(path)), { query, headers: { 'content-type': 'application/octet-stream' }, body: data });
        if (o.json) return line(r.raw);
        if (o.s) line(formatStat(r.value.stat));
      }),
    );

  clientCommand(program, 'delete', 'delete a znode without children (zkCli delete)')
    .argument('<path>')
    .option('-v <version>', 'only if the data version is this')
    .action((path: string, o: Opts) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        const version = intOption('-v', o.v as string | undefined);
        const query: [string, string][] = version !== undefined ? [['version', String(version)]] : [];
        await c.call<null>('DELETE', znodeUrl('/v1/znodes', checkPath(path)), { query });
      }),
    );

  clientCommand(program, 'deleteall', 'delete a znode and its whole subtree (zkCli deleteall)')
    .argument('<path>')
    .action((path: string, o: Opts) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        await deleteAll(c, checkPath(path));
      }),
    );

  clientCommand(program, 'sync', 'wait until the server has applied everything committed before (zkCli sync)')
    .argument('[path]', 'accepted for zkCli compatibility; sync covers the whole tree', '/')
    .action((path: string, o: Opts) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        checkPath(path);
        const r = await c.call<{ zxid: string }>('POST', '/v1/sync', { readOnly: true });
        if (o.json) return line(r.raw);
        line('Sync is OK');
      }),
    );
}

/** `digest:bob:hash:cdrwa,world:anyone:r` → one `scheme:id:perms` string per entry, as the REST API takes them. */
export function splitAcl(acl: string): string[] {
  const parts = acl.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const p of parts) {
    if (p.split(':').length < 3) throw new UsageError(`ACL entries look like scheme:id:perms, got ${JSON.stringify(p)}`);
  }
  return parts;
}
