// deleteall: one atomic recursive DELETE when the subtree fits the server's bound; a larger subtree is
// removed deepest-first in bounded multi batches, with a progress line on a terminal.
import type { Client } from './http.js';
import { znodeUrl } from './http.js';
import { joinPath } from './common.js';
import { listAllChildren } from './children.js';
import { ZkFailure } from './errors.js';
import { Progress } from './progress.js';

/** Delete ops per /v1/multi request in the batched path. */
export const DELETE_BATCH_OPS = 1000;

export async function deleteAll(c: Client, root: string): Promise<void> {
  try {
    await c.call<null>('DELETE', znodeUrl('/v1/znodes', root), { query: [['recursive', '']] });
    return;
  } catch (e) {
    // The server refuses subtrees past its one-transaction bound with BadArguments; anything else is final.
    if (!(e instanceof ZkFailure && e.body.error === 'BadArguments' && /more than \d+ nodes/.test(e.body.message))) throw e;
  }
  const progress = new Progress('deleting');
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const ops = batch.map((path) => ({ op: 'delete', path }));
    await c.call('POST', '/v1/multi', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ops }) });
    progress.tick(batch.length);
    batch = [];
  };
  // Post-order: a node is queued only after all of its children, so each batch deletes leaves first.
  const stack: { path: string; expanded: boolean }[] = [{ path: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { path: string; expanded: boolean };
    if (top.expanded) {
      stack.pop();
      batch.push(top.path);
      if (batch.length >= DELETE_BATCH_OPS) await flush();
      continue;
    }
    top.expanded = true;
    const r = await listAllChildren(c, top.path);
    for (const name of r.body.children) stack.push({ path: joinPath(top.path, name), expanded: false });
  }
  await flush();
  progress.done();
}
