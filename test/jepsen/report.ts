// Writes a run's report under a results folder: history (JSON lines), nemesis timeline, watcher logs,
// verdicts with latency and availability per phase, and an HTML page with an SVG latency/fault plot.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './run.js';

export interface Phase {
  name: string;
  from: number;
  to: number;
  ops: number;
  ok: number;
  failed: number;
  unknown: number;
  /** Share of operations with a definite answer (ok or a ZooKeeper error). */
  availability: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

/** Phases: the quiet stretches and each fault, in order; operations belong to the phase they were invoked in. */
export function phases(r: RunResult): Phase[] {
  const bounds: { name: string; from: number; to: number }[] = [];
  let t = 0;
  for (const ev of r.timeline) {
    if (ev.t > t) bounds.push({ name: 'healthy', from: t, to: ev.t });
    bounds.push({ name: `${ev.fault}: ${ev.detail}`, from: ev.t, to: ev.end ?? ev.t });
    t = ev.end ?? ev.t;
  }
  const last = Math.max(t, ...r.ops.map((o) => o.call));
  if (last > t) bounds.push({ name: 'healthy / final', from: t, to: last + 1 });
  return bounds.map((b) => {
    const ops = r.ops.filter((o) => o.call >= b.from && o.call < b.to);
    const lat = ops.filter((o) => o.outcome !== 'unknown').map((o) => (o.end ?? o.ret) - o.call);
    const ok = ops.filter((o) => o.outcome === 'ok').length;
    const unknown = ops.filter((o) => o.outcome === 'unknown').length;
    const definite = ops.filter((o) => o.outcome === 'ok' || (o.outcome === 'fail' && o.error !== 'NotApplied')).length;
    return { ...b, ops: ops.length, ok, failed: ops.length - ok - unknown, unknown, availability: ops.length ? definite / ops.length : 1, p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), maxMs: lat.length ? Math.max(...lat) : 0 };
  });
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function svg(r: RunResult): string {
  const W = 1100;
  const H = 320;
  const end = Math.max(1, ...r.ops.map((o) => o.end ?? o.call));
  const maxLat = Math.max(100, ...r.ops.map((o) => (o.end ?? o.call) - o.call));
  const x = (t: number) => 50 + (t / end) * (W - 60);
  const y = (ms: number) => H - 30 - (Math.log10(1 + ms) / Math.log10(1 + maxLat)) * (H - 60);
  const parts: string[] = [];
  const colors: Record<string, string> = { partition: '#f4c7c3', 'partition-leader': '#f4c7c3', 'one-way': '#fce8b2', bridge: '#fce8b2', delay: '#d2e3fc', loss: '#d2e3fc', kill: '#e6c9f0', 'kill-leader': '#e6c9f0', pause: '#c8e6c9', 'pause-leader': '#c8e6c9' };
  for (const ev of r.timeline) {
    parts.push(`<rect x="${x(ev.t)}" y="10" width="${Math.max(1, x(ev.end ?? ev.t) - x(ev.t))}" height="${H - 40}" fill="${colors[ev.fault] ?? '#eee'}"><title>${esc(`${ev.fault}: ${ev.detail}`)}</title></rect>`);
  }
  const dot: Record<string, string> = { ok: '#1a73e8', fail: '#f9ab00', unknown: '#d93025' };
  for (const o of r.ops) {
    const lat = (o.end ?? o.call) - o.call;
    parts.push(`<circle cx="${x(o.call).toFixed(1)}" cy="${y(lat).toFixed(1)}" r="1.5" fill="${dot[o.outcome]}"/>`);
  }
  for (const ms of [1, 10, 100, 1000, 10000]) if (ms <= maxLat) parts.push(`<text x="2" y="${y(ms) + 4}" font-size="10">${ms} ms</text><line x1="48" x2="${W}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/>`);
  for (let s = 0; s <= end / 1000; s += Math.max(1, Math.round(end / 1000 / 10))) parts.push(`<text x="${x(s * 1000)}" y="${H - 10}" font-size="10">${s}s</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${parts.join('')}</svg>`;
}

export function writeReport(r: RunResult, dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'history.jsonl'), r.ops.map((o) => JSON.stringify({ ...o, ret: o.ret === Infinity ? null : o.ret })).join('\n') + '\n');
  writeFileSync(join(dir, 'nemesis.json'), JSON.stringify(r.timeline, null, 1));
  writeFileSync(join(dir, 'watchers.json'), JSON.stringify(r.watchers));
  const ph = phases(r);
  const summary = { seed: r.options.seed, verdict: r.verdict, durationMs: r.durationMs, timeMs: r.options.timeMs, faults: r.options.faults, nodes: r.options.nodes, checks: r.checks, phases: ph, links: r.links, error: r.error };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(summary, null, 1));
  const rows = ph.map((p) => `<tr><td>${(p.from / 1000).toFixed(1)}–${(p.to / 1000).toFixed(1)} s</td><td>${esc(p.name)}</td><td>${p.ops}</td><td>${p.ok}</td><td>${p.failed}</td><td>${p.unknown}</td><td>${(p.availability * 100).toFixed(1)}%</td><td>${p.p50Ms.toFixed(0)}</td><td>${p.p99Ms.toFixed(0)}</td><td>${p.maxMs.toFixed(0)}</td></tr>`).join('');
  const checks = r.checks.map((c) => `<tr><td>${esc(c.name)}</td><td><b>${c.verdict}</b></td><td>${esc(JSON.stringify(c.stats ?? {}))}</td><td>${c.anomalies.slice(0, 20).map((a) => `${esc(a.kind)}: ${esc(a.detail)}`).join('<br>')}</td></tr>`).join('');
  const html = `<!doctype html><meta charset="utf-8"><title>zkgate jepsen seed ${r.options.seed}</title>
<style>body{font:13px sans-serif;margin:20px}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}table{border-collapse:collapse}</style>
<h1>zkgate Jepsen run — seed ${r.options.seed}: ${r.verdict.toUpperCase()}</h1>
<p>${r.options.nodes} nodes, ${(r.options.timeMs / 1000).toFixed(0)} s of faults [${r.options.faults.join(', ')}], ${r.ops.length} operations, wall time ${(r.durationMs / 1000).toFixed(0)} s.
Replay: <code>npm run jepsen -- --seed ${r.options.seed} --time ${r.options.timeMs / 1000} --nemesis ${r.options.faults.join(',') || 'none'}</code></p>
<h2>Checks</h2><table><tr><th>check</th><th>verdict</th><th>stats</th><th>anomalies</th></tr>${checks}</table>
<h2>Latency (log scale; blue ok, amber failed, red unknown) over the nemesis timeline</h2>${svg(r)}
<h2>Availability and latency per phase</h2><table><tr><th>time</th><th>phase</th><th>ops</th><th>ok</th><th>failed</th><th>unknown</th><th>definite answers</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th></tr>${rows}</table>
<h2>Links</h2><pre>${esc(JSON.stringify(r.links, null, 1))}</pre>${r.error ? `<h2>Harness error</h2><pre>${esc(r.error)}</pre>` : ''}`;
  writeFileSync(join(dir, 'report.html'), html);
  return dir;
}
