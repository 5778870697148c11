// Walking a subtree over REST, depth-first in name order, printed as it is read (memory stays bounded by
// the depth times the widest child list): `ls -R` (full paths, zkCli's format) and `tree` (indented view).
import type { Command } from 'commander';
import type { Client, ClientOptions } from './http.js';
import { checkPath, clientCommand, intOption, joinPath, makeClient } from './common.js';
import { line, runAction } from './output.js';
import { Progress } from './progress.js';
import { UsageError, ZkFailure } from './errors.js';
import { listAllChildren, type ChildrenBody } from './children.js';

/** Its children (cli/children.ts); a node deleted while we walk is skipped (null), as zkCli's recursive listing does. */
async function children(c: Client, path: string): Promise<{ body: ChildrenBody; raw: string } | null> {
  try {
    return await listAllChildren(c, path);
  } catch (e) {
    if (e instanceof ZkFailure && e.body.error === 'NoNode') return null;
    throw e;
  }
}

export interface Visit {
  path: string;
  name: string;
  depth: number;
  /** For each ancestor level (and this one), whether that node was the last of its siblings. */
  lastFlags: boolean[];
  raw: string;
  /** Its child names, sorted. */
  children: string[];
}

/** Depth-first pre-order walk; the root must exist (NoNode otherwise), vanished descendants are skipped. */
export async function walk(c: Client, root: string, maxDepth: number, visit: (v: Visit) => void): Promise<void> {
  const first = await children(c, root);
  if (!first) throw new ZkFailure({ error: 'NoNode', code: -101, message: 'node does not exist', path: root }, 404, c.currentUrl);
  const stack: { path: string; name: string; depth: number; lastFlags: boolean[] }[] = [];
  const expand = (path: string, depth: number, names: string[], lastFlags: boolean[]) => {
    if (depth >= maxDepth) return;
    for (let i = names.length - 1; i >= 0; i--) {
      const name = names[i] as string;
      stack.push({ path: joinPath(path, name), name, depth: depth + 1, lastFlags: [...lastFlags, i === names.length - 1] });
    }
  };
  visit({ path: root, name: root, depth: 0, lastFlags: [], raw: first.raw, children: first.body.children });
  expand(root, 0, first.body.children, []);
  while (stack.length > 0) {
    const n = stack.pop() as (typeof stack)[number];
    const r = await children(c, n.path);
    if (!r) continue;
    visit({ ...n, raw: r.raw, children: r.body.children });
    expand(n.path, n.depth, r.body.children, n.lastFlags);
  }
}

/**
 * `ls -R`: every path of the subtree, one a line, in zkCli's order (ZKUtil.visitSubTreeDFS): the root, then each
 * node's children, all of them, before the walk goes into the first; with --json one `{path, children, stat}` body a
 * line, node by node depth-first.
 */
export async function listRecursive(c: Client, root: string, json: boolean): Promise<void> {
  const progress = new Progress('listing');
  await walk(c, root, Infinity, (v) => {
    if (json) line(v.raw);
    else {
      if (v.depth === 0) line(v.path);
      for (const name of v.children) line(joinPath(v.path, name));
    }
    progress.tick();
  });
  progress.done();
}

export function registerTreeCommand(program: Command): void {
  clientCommand(program, 'tree', 'print a subtree as an indented tree')
    .argument('[path]', 'the subtree root', '/')
    .option('-d, --depth <n>', 'levels below the root to show')
    .action((path: string, o: ClientOptions & { depth?: string }) =>
      runAction(o.json, async () => {
        const c = makeClient(o);
        checkPath(path);
        const depth = intOption('--depth', o.depth) ?? Infinity;
        if (depth < 0) throw new UsageError(`--depth must be 0 or more, got ${o.depth}`);
        const progress = new Progress('reading');
        await walk(c, path, depth, (v) => {
          progress.tick();
          if (o.json) return line(v.raw);
          if (v.depth === 0) return line(v.path);
          let prefix = '';
          for (let i = 0; i < v.lastFlags.length - 1; i++) prefix += v.lastFlags[i] ? '    ' : '│   ';
          line(`${prefix}${v.lastFlags[v.lastFlags.length - 1] ? '└── ' : '├── '}${v.name}`);
        });
        progress.done();
      }),
    );
}
