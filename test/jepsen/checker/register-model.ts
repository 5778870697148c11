// ZooKeeper's register semantics for one znode, as a Porcupine-style model: create, set (optionally
// conditional on version), delete (optionally conditional) and linearizable get, with the stat version.
import type { Model, Operation } from './linearizability.js';

export type RegisterInput =
  | { f: 'create'; key: string; value: string }
  | { f: 'set'; key: string; value: string; version?: number }
  | { f: 'delete'; key: string; version?: number }
  | { f: 'get'; key: string };

/** A definite outcome: ok (with the version/data a get or set reported) or a ZooKeeper error name. */
export type RegisterOutput = { ok: true; version?: number; value?: string } | { ok: false; error: 'NoNode' | 'NodeExists' | 'BadVersion' };

/** null: the znode does not exist. */
export type RegisterState = { value: string; version: number } | null;

function expected(state: RegisterState, input: RegisterInput): { out: RegisterOutput; next: RegisterState } {
  switch (input.f) {
    case 'create':
      return state ? { out: { ok: false, error: 'NodeExists' }, next: state } : { out: { ok: true, version: 0 }, next: { value: input.value, version: 0 } };
    case 'set':
      if (!state) return { out: { ok: false, error: 'NoNode' }, next: state };
      if (input.version !== undefined && input.version !== -1 && input.version !== state.version) return { out: { ok: false, error: 'BadVersion' }, next: state };
      return { out: { ok: true, version: state.version + 1 }, next: { value: input.value, version: state.version + 1 } };
    case 'delete':
      if (!state) return { out: { ok: false, error: 'NoNode' }, next: state };
      if (input.version !== undefined && input.version !== -1 && input.version !== state.version) return { out: { ok: false, error: 'BadVersion' }, next: state };
      return { out: { ok: true }, next: null };
    case 'get':
      return state ? { out: { ok: true, version: state.version, value: state.value }, next: state } : { out: { ok: false, error: 'NoNode' }, next: state };
  }
}

function same(a: RegisterOutput, b: RegisterOutput): boolean {
  if (a.ok !== b.ok) return false;
  if (!a.ok || !b.ok) return !a.ok && !b.ok && a.error === b.error;
  if (b.version !== undefined && a.version !== b.version) return false;
  if (b.value !== undefined && a.value !== b.value) return false;
  return true;
}

export const registerModel: Model<RegisterState, RegisterInput, RegisterOutput> = {
  init: () => null,
  step(state, input, output) {
    const e = expected(state, input);
    // An unknown outcome is whatever the operation would have done had it taken effect here; not taking
    // effect at all is covered by linearizing it after everything else (its return time is +∞).
    if (output === undefined) return e.next;
    return same(e.out, output) ? e.next : undefined;
  },
  hash: (s) => (s ? `${s.version}:${s.value}` : '-'),
  partition(ops: Operation<RegisterInput, RegisterOutput>[]) {
    const by = new Map<string, Operation<RegisterInput, RegisterOutput>[]>();
    for (const o of ops) {
      const list = by.get(o.input.key) ?? [];
      list.push(o);
      by.set(o.input.key, list);
    }
    return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, list]) => ({ key, ops: list }));
  },
};

export function describeOp(o: Operation<RegisterInput, RegisterOutput>): string {
  const i = o.input;
  const args = i.f === 'create' || i.f === 'set' ? ` ${JSON.stringify(i.value)}` : '';
  const ver = 'version' in i && i.version !== undefined ? ` v=${i.version}` : '';
  const out = o.output === undefined ? '?' : o.output.ok ? `ok${o.output.version !== undefined ? ` v=${o.output.version}` : ''}${o.output.value !== undefined ? ` ${JSON.stringify(o.output.value)}` : ''}` : o.output.error;
  return `#${o.id} c${o.client} ${i.f} ${i.key}${args}${ver} → ${out} [${o.call.toFixed(1)}, ${o.ret === Infinity ? '∞' : o.ret.toFixed(1)}]`;
}
