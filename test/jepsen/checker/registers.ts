// Turns the register part of a history into checker operations, and checks plain (non-linearizable)
// reads for ZooKeeper's weaker promise: per client, never going back in zxid, and no value never written.
import type { RegisterOp } from '../history.js';
import type { Operation } from './linearizability.js';
import type { RegisterInput, RegisterOutput } from './register-model.js';

const DEFINITE = new Set(['NoNode', 'NodeExists', 'BadVersion']);

/** Errors a node reports for a write it knows it never proposed (503 with applied:false). */
export const NOT_APPLIED = 'NotApplied';

export interface Anomaly {
  kind: string;
  detail: string;
  ops?: number[];
}

/** Writes and linearizable reads as operations; plain reads, never-applied writes and unknown reads are left out. */
export function registerOperations(ops: RegisterOp[]): { ops: Operation<RegisterInput, RegisterOutput>[]; anomalies: Anomaly[] } {
  const out: Operation<RegisterInput, RegisterOutput>[] = [];
  const anomalies: Anomaly[] = [];
  for (const o of ops) {
    if (o.f === 'read') continue;
    if (o.outcome === 'fail' && o.error === NOT_APPLIED) continue;
    if (o.f === 'get' && o.outcome !== 'ok' && !(o.outcome === 'fail' && o.error === 'NoNode')) continue;
    const input: RegisterInput =
      o.f === 'create' ? { f: 'create', key: o.key, value: o.value as string }
      : o.f === 'set' ? { f: 'set', key: o.key, value: o.value as string, version: o.version }
      : o.f === 'delete' ? { f: 'delete', key: o.key, version: o.version }
      : { f: 'get', key: o.key };
    let output: RegisterOutput | undefined;
    if (o.outcome === 'ok') {
      output = o.f === 'delete' ? { ok: true } : o.f === 'get' ? { ok: true, version: o.gotVersion, value: o.gotValue } : { ok: true, version: o.gotVersion };
    } else if (o.outcome === 'fail' && o.error !== undefined && DEFINITE.has(o.error)) {
      output = { ok: false, error: o.error as 'NoNode' | 'NodeExists' | 'BadVersion' };
    } else if (o.outcome === 'fail') {
      anomalies.push({ kind: 'unexpected-error', detail: `#${o.id} ${o.f} ${o.key} failed with ${o.error}; treated as unknown`, ops: [o.id] });
    }
    out.push({ id: o.id, client: o.client, input, output, call: o.call, ret: output === undefined ? Infinity : o.ret });
  }
  return { ops: out, anomalies };
}

/**
 * Plain reads (served by the local replica, with ZK-Min-Zxid set to the client's last seen zxid):
 * the answering node's zxid never goes back for a client nor is below the mzxid a read shows, a key's mzxid never goes back for a client
 * (its own acknowledged writes included), and every value read was written by some create or set with that
 * mzxid and version when the write's answer is known.
 */
export function checkPlainReads(ops: RegisterOp[]): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const writes = new Map<string, RegisterOp>();
  for (const o of ops) if ((o.f === 'create' || o.f === 'set') && o.outcome !== 'fail') writes.set(`${o.key}\u0000${o.value}`, o);
  const byClient = new Map<number, RegisterOp[]>();
  for (const o of ops) byClient.set(o.client, [...(byClient.get(o.client) ?? []), o]);
  for (const [client, list] of byClient) {
    list.sort((a, b) => a.call - b.call);
    let zxid = 0;
    let zxidOp = 0;
    const seen = new Map<string, { mzxid: number; op: number }>();
    for (const o of list) {
      if (o.outcome !== 'ok') continue;
      if (o.zxid !== undefined) {
        if (o.zxid < zxid) anomalies.push({ kind: 'zxid-went-back', detail: `client ${client}: #${o.id} answered at zxid ${o.zxid} after #${zxidOp} at ${zxid}`, ops: [zxidOp, o.id] });
        else (zxid = o.zxid), (zxidOp = o.id);
        // The client sends that zxid back as ZK-Min-Zxid: below what it saw, another node may answer with older data.
        if ((o.f === 'read' || o.f === 'get') && o.mzxid !== undefined && o.mzxid > o.zxid) {
          anomalies.push({ kind: 'zxid-behind-data', detail: `client ${client}: #${o.id} ${o.f} ${o.key} showed mzxid ${o.mzxid} but answered ZK-Zxid ${o.zxid}`, ops: [o.id] });
        }
      }
      if (o.mzxid === undefined || o.f === 'delete') continue;
      const prev = seen.get(o.key);
      if (prev && o.mzxid < prev.mzxid) {
        anomalies.push({ kind: 'stale-read', detail: `client ${client}: #${o.id} ${o.f} ${o.key} saw mzxid ${o.mzxid} after #${prev.op} saw ${prev.mzxid}`, ops: [prev.op, o.id] });
      }
      if (!prev || o.mzxid >= prev.mzxid) seen.set(o.key, { mzxid: o.mzxid, op: o.id });
      if (o.f !== 'read') continue;
      const w = writes.get(`${o.key}\u0000${o.gotValue}`);
      if (!w) anomalies.push({ kind: 'phantom-read', detail: `#${o.id} read ${JSON.stringify(o.gotValue)} from ${o.key}, which no create or set wrote`, ops: [o.id] });
      else if (w.outcome === 'ok' && (w.mzxid !== o.mzxid || w.gotVersion !== o.gotVersion)) {
        anomalies.push({ kind: 'read-mismatch', detail: `#${o.id} read ${JSON.stringify(o.gotValue)} at mzxid ${o.mzxid} v${o.gotVersion}, but #${w.id} wrote it at mzxid ${w.mzxid} v${w.gotVersion}`, ops: [w.id, o.id] });
      }
    }
  }
  return anomalies;
}
