// `zkgate server` as a child process (API.md §1): zoo.cfg parsing, exit 2 naming a bad key, unknown keys as
// warnings, flags over the file, and the defaults (127.0.0.1, data only under the dataDir).
import t from 'tap';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { existsSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ZKGATE_BIN, freePort, spawnServer, tempDir, type ChildServer } from '../helpers/server.js';
import { call, spawnUp } from './http.js';
import { untracked } from '../helpers/untracked.js';

// Six process starts on a shared 2-core machine: allow more than tap's default per-file budget.
t.setTimeout(240000);
const dir = tempDir('zkgate-cfg-');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function cfgFile(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

/** SIGTERM, then the exit; every child is stopped before its test ends. */
async function stop(s: ChildServer): Promise<{ code: number | null }> {
  if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
  return s.exited;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await call(url, 'GET', '/v1/admin/ruok')).status === 200;
  } catch {
    return false;
  }
}

t.test('a bad value exits 2 with a message naming the key', async (t) => {
  const cases: [string[], string | RegExp][] = [
    [['tickTime=abc'], 'tickTime'],
    [['jute.maxbuffer=12'], 'jute.maxbuffer'],
    [['minSessionTimeout=9000', 'maxSessionTimeout=4000'], 'minSessionTimeout'],
    [['corsAllowOrigins=https://app.example/path'], 'corsAllowOrigins'],
    [[`tlsCertFile=${cfgFile('garbage.pem', ['not a certificate'])}`, `tlsKeyFile=${join(dir, 'garbage.pem')}`], 'tlsCertFile'],
    [[`tlsCertFile=${join(dir, 'garbage.pem')}`], 'tlsKeyFile'],
    [['tlsCertFile=missing.pem', 'tlsKeyFile=missing-key.pem'], 'tlsCertFile: cannot read'],
    [['tlsClientAuth=maybe'], 'tlsClientAuth'],
    [['metricsPort=0'], 'metricsPort'],
    [['audit.enable=yes'], 'audit.enable: true or false'],
    [['readonlymode.enabled=1'], 'readonlymode.enabled: true or false'],
    [['maxCnxns=100'], 'maxCnxns (100) must be larger than wsMaxConnections (10000)'],
    [['maxClientCnxns=-1'], 'maxClientCnxns'],
    [['tlsProtocols=TLSv1.2'], 'tlsProtocols needs tlsCertFile and tlsKeyFile'],
    [['peerTlsCiphers=ECDHE-RSA-AES128-GCM-SHA256'], 'peerTlsCiphers needs peerTlsCertFile'],
    [['peerTlsVerifyHostname=true'], 'peerTlsVerifyHostname needs peerTlsCertFile'],
    [['peerTlsVerifyHostname=yes'], 'peerTlsVerifyHostname: true or false'],
    [['tlsCiphers=NO-SUCH-CIPHER'], 'tlsCiphers: '],
    [['peerTlsCertFile=peer.pem'], 'peerTlsKeyFile is missing: peer TLS needs peerTlsCertFile, peerTlsKeyFile and peerTlsCaFile'],
    [['peerTlsCertFile', 'peerTlsKeyFile', 'peerTlsCaFile'].map((k) => `${k}=${join(dir, 'garbage.pem')}`), 'configuration error (peerTlsCertFile)'],
    [['ensembleSecretFile=no-such-secret'], /ensembleSecretFile: \S+no-such-secret does not exist/],
    [[`ensembleSecretFile=${cfgFile('empty-secret', [''])}`], /ensembleSecretFile: \S+empty-secret is empty/],
    [['x509SuperUser=CN=admin'], 'x509SuperUser'],
    // Past 2^31 - 1 ms Node fires a timer after 1 ms: a sweep every millisecond, a snapshot timed out at once.
    [['maxSessionTimeout=9000000000'], 'maxSessionTimeout: 9000000000 is out of range'],
    [['znode.container.checkIntervalMs=3000000000'], 'znode.container.checkIntervalMs'],
    [['snapshotTimeoutMs=3000000000'], 'snapshotTimeoutMs'],
  ];
  for (const [i, [lines, key]] of cases.entries()) {
    const s = await spawnServer(['--config', cfgFile(`bad${i}.cfg`, [`dataDir=${join(dir, `bad${i}`)}`, ...lines]), '--http-port', String(await freePort())]);
    const { code } = await s.exited;
    t.equal(code, 2, lines.join(' '));
    t.match(s.stderr(), key, `stderr names ${key}`);
    t.notMatch(s.stderr(), /\n\s+at /, 'no stack trace');
  }
  const shared = String(await freePort());
  const same = await spawnServer(['--config', cfgFile('same-port.cfg', [`dataDir=${join(dir, 'same-port')}`, `metricsPort=${shared}`]), '--http-port', shared]);
  t.equal((await same.exited).code, 2, 'metricsPort on the HTTP port');
  t.match(same.stderr(), `configuration error (metricsPort): metricsPort ${shared} is the HTTP port`);
  const local = await spawnServer(['--config', cfgFile('same-local.cfg', [`dataDir=${join(dir, 'same-local')}`, `metricsPort=${shared}`, 'metricsHost=localhost']), '--http-port', shared]);
  t.equal((await local.exited).code, 2, 'metricsHost=localhost is the loopback address the HTTP port is on');
  // Node's recursive mkdir loops for ever where mkdir fails with ENOENT under a parent that exists (procfs).
  writeFileSync(join(dir, 'a-file'), '');
  for (const [lines, message] of [
    [['dataDir=/proc/zkgate-no-such-dir'], 'configuration error (dataDir): dataDir: cannot use /proc/zkgate-no-such-dir: ENOENT'],
    [[`dataDir=${join(dir, 'a-file', 'data')}`], `configuration error (dataDir): dataDir: cannot use ${join(dir, 'a-file', 'data')}: ENOTDIR`],
    [[`dataDir=${join(dir, 'audit-proc')}`, 'audit.enable=true', 'auditLogFile=/proc/zkgate-no-such-dir/audit.log'], 'configuration error (auditLogFile)'],
  ] as const) {
    const s = await spawnServer(['--config', cfgFile('unmakeable.cfg', [...lines]), '--http-port', String(await freePort())]);
    t.equal((await s.exited).code, 2, `${lines.join(' ')}: exit 2 (it used to hang, or crash with a stack)`);
    t.match(s.stderr(), message);
    t.notMatch(s.stderr(), /\n\s+at /, 'no stack trace');
  }
  const empty = await spawnServer(['--data-dir', join(dir, 'empty-host'), '--host', '', '--http-port', String(await freePort())]);
  t.equal((await empty.exited).code, 2, '--host with an empty value');
  t.match(empty.stderr(), 'configuration error (clientPortAddress): --host: must not be empty');
});

t.test('server.N lines that cannot make an ensemble (server.0, two on one address, no participant, a metrics port on a peer port) exit 2 naming them', async (t) => {
  const [p1, p2, h1, h2] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const cases: [string[], string][] = [
    [[`server.0=127.0.0.1:${p2}:${p2};127.0.0.1:${h2}`, `server.1=127.0.0.1:${p1}:${p1};127.0.0.1:${h1}`], 'server.0: 0 is out of range [1, 254]'],
    [[`server.1=127.0.0.1:${p1}:${p1}:observer;127.0.0.1:${h1}`, `server.2=127.0.0.1:${p2}:${p2}:observer;127.0.0.1:${h2}`], 'every server.N line is an observer'],
    [[`server.1=127.0.0.1:${p1}:${p1};127.0.0.1:${h1}`, `metricsPort=${p1}`], `metricsPort ${p1} is a port of server.1's line`],
    [[`server.1=127.0.0.1:${p1}:${p1};127.0.0.1:${h1}`, `server.2=127.0.0.1:${p1}:${p2};127.0.0.1:${h2}`], `server.2: peer address 127.0.0.1:${p1} is also server.1's peer address`],
    [[`server.1=127.0.0.1:${p1}:${p1};127.0.0.1:${h1}`, `server.2=127.0.0.1:${p2}:${p2};127.0.0.1:${h1}`], `server.2: HTTP address 127.0.0.1:${h1} is also server.1's HTTP address`],
  ];
  for (const [i, [lines, message]] of cases.entries()) {
    const data = join(dir, `dup${i}`);
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'myid'), '1\n');
    const s = await spawnServer(['--config', cfgFile(`dup${i}.cfg`, [`dataDir=${data}`, 'ensembleSecret=s', ...lines])]);
    // Accepted, such a node runs on (dialing itself): give up waiting and stop it. The timer is unref'd (the child
    // keeps the process alive while it runs) so that this file exits as soon as its tests end, not 15 s later.
    const code = await Promise.race([s.exited.then((e) => e.code), new Promise<string>((r) => setTimeout(() => r('still running'), 15000).unref())]);
    if (code === 'still running') await stop(s);
    t.equal(code, 2, message);
    t.match(s.stderr(), message);
    t.notMatch(s.stderr(), /\n\s+at /, 'no stack trace');
  }
});

t.test('a port in use exits 1 saying whether it is the HTTP port or the peer port of server.N', async (t) => {
  const busy = net.createServer();
  const taken = await new Promise<number>((r) => busy.listen(0, '127.0.0.1', () => r((busy.address() as net.AddressInfo).port)));
  t.teardown(() => busy.close());
  const free = await freePort();
  const [peer, http] = [await freePort(), await freePort()];
  const cases: [string[], string][] = [
    [[`server.1=127.0.0.1:${taken}:${taken};127.0.0.1:${free}`], `cannot listen on 127.0.0.1:${taken} (the peer port of server.1): EADDRINUSE`],
    [[`server.1=127.0.0.1:${free}:${free};127.0.0.1:${taken}`], `cannot listen on 127.0.0.1:${taken} (the HTTP port): EADDRINUSE`],
    [[`server.1=127.0.0.1:${peer}:${peer};127.0.0.1:${http}`, `metricsPort=${taken}`], `cannot listen on 127.0.0.1:${taken} (the metrics port, metricsPort): EADDRINUSE`],
  ];
  for (const [i, [lines, message]] of cases.entries()) {
    const data = join(dir, `inuse${i}`);
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'myid'), '1\n');
    const s = await spawnServer(['--config', cfgFile(`inuse${i}.cfg`, [`dataDir=${data}`, 'ensembleSecret=s', ...lines])]);
    const { code } = await s.exited;
    t.equal(code, 1);
    t.match(s.stderr(), message);
  }
});

t.test('unknown keys are warnings, the server starts, and a relative dataDir resolves against the file’s folder', async (t) => {
  const sub = join(dir, 'relcfg');
  mkdirSync(sub, { recursive: true });
  const cfg = join(sub, 'zoo.cfg');
  writeFileSync(cfg, ['# a comment', 'dataDir=rel-data', 'fancyNewKey=1', 'clientPort=2181', 'secureClientPort=2281', ''].join('\n'));
  const s = await spawnUp(['--config', cfg, '--http-port', String(await freePort())]);
  t.teardown(() => stop(s));
  t.ok(await answers(s.url), 'answers ruok');
  t.match(s.stdout() + s.stderr(), /fancyNewKey/, 'the warning names the key');
  t.match(s.stdout() + s.stderr(), /zoo\.cfg: secureClientPort is not used: zkgate has no second, TLS-only port/, "a ZooKeeper key zkgate does not use is warned about with the reason");
  t.notMatch(s.stdout() + s.stderr(), /unknown key clientPort|zoo\.cfg: clientPort/, 'clientPort is known (reserved), not an unknown or unused key');
  t.match(s.stdout() + s.stderr(), /clientPort 2181 \(ZooKeeper's wire protocol\) is not served: clients reach this node over HTTP at http:\/\/127\.0\.0\.1:\d+/, 'it is named at start as not served, with the URL clients use');
  t.ok(existsSync(join(sub, 'rel-data', 'zkgate.mdb')), 'data under the folder of zoo.cfg');
  t.equal((await stop(s)).code, 0, 'SIGTERM exits 0');
});

t.test('command-line flags override the file', async (t) => {
  const [filePort, flagPort] = [await freePort(), await freePort()];
  const fileData = join(dir, 'file-data');
  const flagData = join(dir, 'flag-data');
  const cfg = cfgFile('override.cfg', [`dataDir=${fileData}`, `httpPort=${filePort}`, 'clientPortAddress=127.0.0.1', 'tickTime=100']);
  const s = await spawnUp(['--config', cfg, '--http-port', String(flagPort), '--data-dir', flagData]);
  t.teardown(() => stop(s));
  t.ok(await answers(`http://127.0.0.1:${flagPort}`), 'listens on the flag port');
  t.notOk(await answers(`http://127.0.0.1:${filePort}`), 'not on the file port');
  t.ok(existsSync(join(flagData, 'zkgate.mdb')), 'stores under the flag dataDir');
  t.notOk(existsSync(fileData), 'nothing under the file dataDir');
  const sess = await call(s.url, 'POST', '/v1/sessions', { body: { timeoutMs: 1 } });
  t.equal(sess.body.timeoutMs, 200, 'the file’s tickTime still applies (min = 2 × tickTime)');
  t.equal((await stop(s)).code, 0);
});

t.test('defaults: 127.0.0.1, data under ./data of the working directory and nowhere else', async (t) => {
  const cwd = tempDir('zkgate-cwd-');
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }));
  const port = await freePort();
  const proc = spawn(...untracked(process.execPath, [ZKGATE_BIN, 'server', '--http-port', String(port)]), { cwd, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  const reap = () => proc.kill('SIGKILL');
  process.once('exit', reap);
  void exited.then(() => process.off('exit', reap));
  t.teardown(async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
  });
  let up = false;
  for (const deadline = Date.now() + 60000; !up && Date.now() < deadline && proc.exitCode === null; ) {
    up = await answers(`http://127.0.0.1:${port}`);
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(up, 'answers on 127.0.0.1');
  const conf = await call(`http://127.0.0.1:${port}`, 'GET', '/v1/admin/srvr');
  t.equal(conf.status, 200);
  t.same(readdirSync(cwd), ['data'], 'only ./data was created');
  t.ok(existsSync(join(cwd, 'data', 'zkgate.mdb')));
  proc.kill('SIGTERM');
  t.equal(await exited, 0);
});
