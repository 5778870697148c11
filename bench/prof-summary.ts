// Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof`): self time by function and by file, and
// inclusive time of chosen functions. Usage: node dist/bench/prof-summary.js <file.cpuprofile> [top=30] [fn,...]
import { readFileSync } from 'node:fs';

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfNode[];
  samples: number[];
  timeDeltas: number[];
}

export function summarise(file: string, top = 30, inclusiveOf: string[] = []): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
  });
  const short = (u: string) => u.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/').replace(/^node:/, 'node:');
  const label = (n: ProfNode) => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id) as ProfNode;
    fn.set(label(n), (fn.get(label(n)) ?? 0) + us);
    const f = short(n.callFrame.url) || n.callFrame.functionName;
    const pkg = /^node_modules\/((@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? f;
    files.set(pkg, (files.get(pkg) ?? 0) + us);
    // Inclusive: walk up once per sample bucket, counting each named ancestor once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = (byId.get(cur) as ProfNode).callFrame.functionName;
      if (inclusiveOf.includes(name) && !seen.has(name)) {
        seen.add(name);
        incl.set(name, (incl.get(name) ?? 0) + us);
      }
    }
  }
  const pct = (us: number) => ((100 * us) / totalUs).toFixed(1).padStart(5) + '%';
  const list = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => `${pct(us)}  ${name}`)
      .join('\n');
  const out = [`total ${(totalUs / 1e6).toFixed(2)} s sampled`, '', 'self time by function:', list(fn, top), '', 'self time by file / package:', list(files, top)];
  if (inclusiveOf.length > 0) out.push('', 'inclusive time:', list(incl, inclusiveOf.length));
  return out.join('\n');
}

if (process.argv[2]) {
  process.stdout.write(summarise(process.argv[2], Number(process.argv[3] ?? 30), (process.argv[4] ?? '').split(',').filter(Boolean)) + '\n');
}
