// Sessions and ephemerals: an ephemeral exists only while its session lives. No ephemeral create succeeds
// after its session was closed or reported expired; a probe (linearizable reads followed by a later
// successful keepalive) finds every acknowledged ephemeral of the live session; once a session is dead, a
// later probe finds none of its ephemerals; and at the end every session has ended and no ephemeral remains.
import type { SessionOp } from '../history.js';
import type { Anomaly } from './registers.js';

export interface SessionsFinal {
  /** Ephemerals found at the end: path → owner session. */
  ephemerals: Map<string, string>;
  /** Sessions the ensemble still knows at the end (when every one should have ended). */
  alive: Set<string>;
}

/**
 * `expiryGraceMs`: how long the ephemerals of a session answered SessionExpired may still be seen. As in
 * ZooKeeper, a leader answers "expired" once it has marked the session closing, before its close commits;
 * if that leader is deposed first, its successor expires the session again a timeout later.
 */
export function checkSessions(ops: SessionOp[], final: SessionsFinal, expiryGraceMs: number): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const bySession = new Map<string, SessionOp[]>();
  for (const o of ops) if (o.session) bySession.set(o.session, [...(bySession.get(o.session) ?? []), o]);
  for (const [sid, list] of bySession) {
    // Dead for certain once a close is acknowledged (it committed); told expired by a keepalive's 410.
    const closedAt = Math.min(...list.filter((o) => o.f === 'close' && o.outcome === 'ok').map((o) => o.ret));
    const expiredAt = Math.min(...list.filter((o) => o.f === 'keepalive' && o.outcome === 'fail' && o.error === 'SessionExpired').map((o) => o.ret));
    const deadAt = Math.min(closedAt, expiredAt + expiryGraceMs);
    for (const o of list) {
      if (o.f === 'ephemeral' && o.outcome === 'ok' && o.call > Math.min(closedAt, expiredAt)) {
        anomalies.push({ kind: 'ephemeral-after-death', detail: `#${o.id} created ${o.path} for ${sid} after the session was closed or reported expired at ${Math.min(closedAt, expiredAt).toFixed(0)} ms`, ops: [o.id] });
      }
      if (o.f !== 'probe' || o.outcome !== 'ok') continue;
      if (o.call > deadAt) {
        for (const p of o.present ?? []) anomalies.push({ kind: 'ephemeral-outlived-session', detail: `#${o.id} found ${p} at ${o.call.toFixed(0)} ms; ${sid} was ${closedAt <= expiredAt ? `closed at ${closedAt.toFixed(0)}` : `reported expired at ${expiredAt.toFixed(0)}`} ms`, ops: [o.id] });
        continue;
      }
      if (o.call > Math.min(closedAt, expiredAt)) continue;
      // A keepalive that succeeded after the probe's reads: sessions never come back, so it lived throughout them.
      const alive = list.find((k) => k.f === 'keepalive' && k.outcome === 'ok' && k.call >= o.ret);
      if (!alive) continue;
      for (const p of o.absent ?? []) {
        const created = list.find((c) => c.f === 'ephemeral' && c.outcome === 'ok' && c.path === p && c.ret < o.call);
        if (created) anomalies.push({ kind: 'ephemeral-lost', detail: `#${o.id}: ${p} (acknowledged by #${created.id}) is missing while ${sid} lives (keepalive #${alive.id})`, ops: [created.id, o.id, alive.id] });
      }
    }
  }
  // The run waits several session timeouts after the last keepalive before reading the final state.
  for (const sid of final.alive) anomalies.push({ kind: 'session-not-expired', detail: `${sid} still lives at the end, long after its last keepalive` });
  for (const [path, owner] of final.ephemerals) {
    if (!final.alive.has(owner)) anomalies.push({ kind: 'orphan-ephemeral', detail: `${path} remains at the end, its session ${owner} has ended` });
  }
  return anomalies;
}
