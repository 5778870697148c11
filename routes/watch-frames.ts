// Pieces of /v1/watch frames for the connection and its resume batch: the client's frame id, a frame checked
// against its schema, an unknown op named in an error, a sinceZxid as a number, and the reply a watch is armed with.
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ZkError } from '../server/errors.js';
import { statOf } from '../server/tree/stat.js';
import type { WatchState } from '../server/watches/hub.js';
import type { WatchKind } from '../server/watches/registry.js';
import { encodeData } from './context.js';

export type FrameId = string | number | null;

/** ZooKeeper's NoWatcher (-121): removeWatches found no such watch. Not an HTTP error, so not in errors.ts. */
export const NO_WATCHER = { error: 'NoWatcher', code: -121 };

export function frameId(v: unknown): FrameId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)) ? v : null;
}

export function check<T extends TSchema>(schema: T, msg: unknown): void {
  if (Value.Check(schema, msg)) return;
  const e = Value.Errors(schema, msg).First();
  throw new ZkError('BadArguments', `bad ${String((msg as { op?: unknown }).op)} frame: ${e ? `${e.path || '/'} ${e.message}` : 'invalid'}`);
}

export function zxidOf(raw: string | number): number {
  const z = Number(raw);
  if (!Number.isSafeInteger(z)) throw new ZkError('BadArguments', `sinceZxid ${raw} is out of range`);
  return z;
}

/** An unknown op for an error message: bounded, and never a walk of what a client nested (JSON.stringify recurses). */
export function describeOp(op: unknown): string {
  if (typeof op === 'string') return JSON.stringify(op.length > 64 ? `${op.slice(0, 64)}…` : op);
  if (op === undefined) return '(none)';
  return `of type ${op === null ? 'null' : Array.isArray(op) ? 'array' : typeof op}`;
}

export function watchReply(id: FrameId | undefined, kind: WatchKind, st: WatchState, base64: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { id, ok: true, zxid: String(st.zxid), stat: st.rec ? statOf(st.rec) : null };
  if (st.rec && kind !== 'children') {
    const enc = encodeData(st.rec.data, base64);
    out.data = enc.data;
    out.encoding = enc.encoding;
  }
  if (st.children) out.children = st.children;
  return out;
}
