// The developer tools' command lines (bin/sim, bin/jepsen): --help prints the usage, and a bad option or value is a
// one-line error naming it with exit 2 (commander's own rejections exit 1), never a stack trace or a run with NaN.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { untracked } from '../helpers/untracked.js';

const bin = (name: string) => fileURLToPath(new URL(`../../bin/${name}.js`, import.meta.url));

function run(tool: string, args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(...untracked(process.execPath, [bin(tool), ...args]), { encoding: 'utf8', timeout: 20000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const NO_STACK = /^\s+at /m;

t.test('sim: --help, unknown options and bad numbers', async (t) => {
  const help = run('sim', ['--help']);
  t.equal(help.code, 0);
  t.match(help.out, /Usage: sim \[options\][\s\S]*--seeds <n>[\s\S]*--liveness/);
  const unknown = run('sim', ['--bogus']);
  t.equal(unknown.code, 1);
  t.match(unknown.err, /unknown option '--bogus'/);
  t.notMatch(unknown.err, NO_STACK, 'no stack trace');
  const bad = run('sim', ['--seeds', 'abc']);
  t.equal(bad.code, 2);
  t.match(bad.err, /--seeds must be a whole number ≥ 0, got "abc"/);
  const nodes = run('sim', ['--seeds', '1', '--nodes', '4']);
  t.equal(nodes.code, 2);
  t.match(nodes.err, /--nodes must be 3 or 5/);
  const ok = run('sim', ['--seeds', '2', '--start', '11']);
  t.equal(ok.code, 0);
  t.match(ok.out, /PASS 2 seeds \[11\.\.12\] safety/);
});

t.test('jepsen: bad values are refused before any cluster starts', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--time', 'abc'], /--time must be a whole number ≥ 1, got "abc"/],
    [['--runs', '1.5'], /--runs must be a whole number ≥ 1, got "1\.5"/],
    [['--nodes', '1'], /--nodes must be a whole number ≥ 3, got "1"/],
    [['--seed', '-3'], /--seed must be a whole number ≥ 0, got "-3"/],
    [['--nemesis', 'bogus'], /unknown nemesis "bogus" \(groups: all/],
  ];
  for (const [args, message] of cases) {
    const r = run('jepsen', args);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.match(r.err, message);
    t.notMatch(r.err, NO_STACK, `${args.join(' ')}: no stack trace`);
    t.equal(r.out, '', `${args.join(' ')}: nothing run`);
  }
});
