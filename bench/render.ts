// Re-renders bench/RESULTS.md from a raw run (bench/results/<date>.json), keeping the hand-written analysis.
// Usage: node dist/bench/render.js <run.json> [out.md]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { render, type Report } from './report.js';

const [json, out = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url))] = process.argv.slice(2);
if (!json) {
  process.stderr.write('usage: node dist/bench/render.js <run.json> [out.md]\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
writeFileSync(out, render(report, out));
process.stderr.write(`wrote ${out}\n`);
