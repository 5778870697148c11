// `zkgate --version` (and -V) prints the release the server reports, which is package.json's version.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { VERSION } from '../../server/version.js';
import { zk } from './run.js';

t.test('the version is package.json\'s', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  t.equal(VERSION, pkg.version);
});

t.test('zkgate --version and -V print it and exit 0', async (t) => {
  for (const flag of ['--version', '-V']) {
    const r = await zk([flag]);
    t.equal(r.code, 0, flag);
    t.equal(r.stdout.trim(), VERSION, flag);
    t.equal(r.stderr, '', flag);
  }
  const help = await zk(['--help']);
  t.match(help.stdout, /-V, --version\s+print the version and exit/, '--help lists it');
});
