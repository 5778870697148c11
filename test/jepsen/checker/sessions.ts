// Sessions and ephemerals: an ephemeral exists only while its session lives. Checked three ways: no
// ephemeral create succeeds after its session was known dead; a probe (linearizable reads followed by a
// later successful keepalive) finds every acknowledged ephemeral of the live session; after a session is
// known dead, a later probe finds none of its ephemerals; and at the end, no ephemeral of an ended session remains.
import type { SessionOp } from '../history.js';
import type { Anomaly } from './registers.js';

export interface SessionsFinal {
  /** Ephemerals found at the end: path → owner session. */
  ephemerals: Map<string, string>;
  /** Sessions the ensemble still knows at the end (when every one should have ended). */
  alive: Set<string>;
}

export function checkSessions(ops: SessionOp[], final: SessionsFinal): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const bySession = new Map<string, SessionOp[]>();
  for (const o of ops) if (o.session) bySession.set(o.session, [...(bySession.get(o.session) ?? []), o]);
  for (const [sid, list] of bySession) {
    // Dead from the completion of an acknowledged close, or of a keepalive answered SessionExpired.
    const deadAt = Math.min(...list.filter((o) => (o.f === 'close' && o.outcome === 'ok') || (o.f === 'keepalive' && o.outcome === 'fail' && o.error === 'SessionExpired')).map((o) => o.ret));
    for (const o of list) {
      if (o.f === 'ephemeral' && o.outcome === 'ok' && o.call > deadAt) {
        anomalies.push({ kind: 'ephemeral-after-death', detail: `#${o.id} created ${o.path} for ${sid} after the session was known dead at ${deadAt.toFixed(0)} ms`, ops: [o.id] });
      }
      if (o.f !== 'probe' || o.outcome !== 'ok') continue;
      if (o.call > deadAt) {
        for (const p of o.present ?? []) anomalies.push({ kind: 'ephemeral-outlived-session', detail: `#${o.id} found ${p} after ${sid} was known dead`, ops: [o.id] });
        continue;
      }
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
