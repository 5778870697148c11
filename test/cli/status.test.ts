// `zkgate status`: Mode line like zkServer.sh for a running node; exit 1 with a reason naming the address when
// it cannot tell (not running, no answer in time, refused, looking, wrong myid); exit 2 for a bad zoo.cfg.
import t from 'tap';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir } from '../helpers/server.js';
import { startNode, zk } from './run.js';

const dir = tempDir();
const port = await freePort();
const server = await startNode(['--http-port', String(port), '--data-dir', join(dir, 'data'), '--log-level', 'warn']);

// Stand-ins for what the CLI must cope with but a standalone zkgate cannot show: a port that accepts and never
// answers, a node that refuses, an ensemble member in election, and a follower that has a leader but serves no
// reads yet (catching up; a real one does so for milliseconds, test/ensemble/install-reads has one installing).
const sockets: Socket[] = [];
const silent = createTcpServer((s) => sockets.push(s));
const refusing = createHttpServer((_req, res) => {
  res.writeHead(503, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'ConnectionLoss', code: -4, message: 'server is shutting down', applied: false }));
});
// Wrong ports: another web server (python -m http.server's HTML 404), and a zkgate peer port, which drops a
// connection whose first bytes are no peer frame.
const html = createHttpServer((_req, res) => {
  res.writeHead(404, { 'content-type': 'text/html;charset=utf-8' });
  res.end('<!DOCTYPE HTML>\n<html lang="en">\n<head><title>Error response</title></head>\n<body><h1>Error response</h1><p>Error code: 404</p></body>\n</html>\n');
});
const dropping = createTcpServer((s) => s.once('data', () => s.destroy()));
const looking = createHttpServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ version: '0.1.0', mode: 'looking', zxid: '0', nodeCount: 4 }));
});
const catchingUp = createHttpServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  const cluster = { myid: 2, leader: 1, members: [], readRefusal: 'this node has just rejoined a quorum after being cut off from it (or after starting), and serves no reads until it has caught up with the leader; retry, or use another server' };
  res.end(JSON.stringify(req.url === '/v1/admin/cluster' ? cluster : { version: '0.1.0', mode: 'follower', zxid: '7', nodeCount: 4 }));
});
const listen = (s: { listen: (p: number, h: string, cb: () => void) => unknown; address: () => unknown }) =>
  new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
const [silentPort, refusingPort, lookingPort, htmlPort, droppingPort, catchingUpPort] = [await listen(silent), await listen(refusing), await listen(looking), await listen(html), await listen(dropping), await listen(catchingUp)];

t.teardown(async () => {
  for (const s of sockets) s.destroy();
  silent.close();
  refusing.close();
  looking.close();
  catchingUp.close();
  html.close();
  dropping.close();
  server.proc.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
});

t.test('a standalone node: Mode: standalone, exit 0 (by --url and by --config)', async (t) => {
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(cfg, `tickTime=2000\ndataDir=${join(dir, 'data')}\nclientPortAddress=127.0.0.1\nhttpPort=${port}\n`);
  const [byUrl, byCfg] = await Promise.all([zk(['status', '--url', server.url]), zk(['status', '--config', cfg])]);
  for (const r of [byUrl, byCfg]) {
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, `Client port found: ${port}. Client address: 127.0.0.1. Client SSL: false.\n`);
    t.match(r.stdout, /\nMode: standalone\n$/);
  }
});

t.test('each reason it cannot tell exits 1 with a message naming the address and no stack trace', async (t) => {
  const deadPort = await freePort();
  const [notRunning, timeout, refused, lookingNode, catching] = await Promise.all([
    zk(['status', '--url', `http://127.0.0.1:${deadPort}`]),
    zk(['status', '--url', `http://127.0.0.1:${silentPort}`, '--timeout', '300']),
    zk(['status', '--url', `http://127.0.0.1:${refusingPort}`]),
    zk(['status', '--url', `http://127.0.0.1:${lookingPort}`]),
    zk(['status', '--url', `http://127.0.0.1:${catchingUpPort}`]),
  ]);
  t.equal(notRunning.code, 1);
  t.match(notRunning.stderr, `Error contacting service at http://127.0.0.1:${deadPort}: connection refused; the server is probably not running`);
  t.equal(timeout.code, 1);
  t.match(timeout.stderr, `Error contacting service at http://127.0.0.1:${silentPort}: no answer within 300 ms (timeout)`);
  t.equal(refused.code, 1);
  t.match(refused.stderr, `http://127.0.0.1:${refusingPort} refused the status request: HTTP 503 ConnectionLoss: server is shutting down`);
  t.equal(lookingNode.code, 1, 'Mode: looking exits 1');
  t.match(lookingNode.stdout, /\nMode: looking\n$/);
  t.match(lookingNode.stderr, 'is up but knows no leader');
  t.equal(catching.code, 1, 'a follower that serves no reads yet exits 1, as zkServer.sh status does for a server still syncing');
  t.match(catching.stdout, /\nMode: follower\nReads refused: this node has just rejoined a quorum/);
  t.match(catching.stderr, `http://127.0.0.1:${catchingUpPort} is a follower but serves no reads yet`);
  for (const r of [notRunning, timeout, refused, lookingNode, catching]) t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

t.test('a port that is not a zkgate HTTP port: one line saying so, exit 1, no HTML, no stack trace', async (t) => {
  const [web, peer] = await Promise.all([zk(['status', '--url', `http://127.0.0.1:${htmlPort}`]), zk(['status', '--url', `http://127.0.0.1:${droppingPort}`])]);
  for (const r of [web, peer]) {
    t.equal(r.code, 1);
    t.match(r.stderr, 'answered, but not as a zkgate server');
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.notMatch(r.stderr, /<html|<!DOCTYPE|SystemError/i, 'no HTML dump');
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  t.match(web.stderr, `http://127.0.0.1:${htmlPort} answered, but not as a zkgate server (HTTP 404 text/html`);
  t.match(peer.stderr, `http://127.0.0.1:${droppingPort} answered, but not as a zkgate server`);
  t.match(peer.stderr, 'may be a zkgate peer port');
});

t.test('a zoo.cfg whose myid is not the node answering there: wrong myid, exit 1', async (t) => {
  const d = join(dir, 'member');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'myid'), '1\n');
  const cfg = join(dir, 'member.cfg');
  writeFileSync(cfg, `dataDir=${d}\nensembleSecret=test-secret\nserver.1=127.0.0.1:2888:3888;127.0.0.1:${port}\n`);
  const r = await zk(['status', '--config', cfg]);
  t.equal(r.code, 1);
  t.match(r.stderr, `wrong myid: the config says this node is myid 1, but the server at http://127.0.0.1:${port} is myid unknown (standalone)`);
});

t.test("status reads no server-only file: a member's ensembleSecretFile it may not read is no error", async (t) => {
  const d = join(dir, 'member-secret-file');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'myid'), '1\n');
  const cfg = join(dir, 'member-secret-file.cfg');
  // Tests run as root, so a missing file stands in for one readable only by the server's user.
  writeFileSync(cfg, `dataDir=${d}\nensembleSecretFile=${join(d, 'no-such-secret')}\nserver.1=127.0.0.1:2888:3888;127.0.0.1:${port}\n`);
  const r = await zk(['status', '--config', cfg]);
  t.equal(r.code, 1, 'it reaches the node (exit 1 for its wrong myid), not a configuration error');
  t.match(r.stderr, `wrong myid: the config says this node is myid 1, but the server at http://127.0.0.1:${port}`);
});

t.test('a bad zoo.cfg exits 2 naming the key', async (t) => {
  const missing = await zk(['status', '--config', join(dir, 'absent.cfg')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /configuration error \(config\)/);
  const d = join(dir, 'nomyid');
  mkdirSync(d, { recursive: true });
  const cfg = join(dir, 'nomyid.cfg');
  writeFileSync(cfg, `dataDir=${d}\nensembleSecret=test-secret\nserver.1=127.0.0.1:2888:3888\n`);
  const noMyid = await zk(['status', '--config', cfg]);
  t.equal(noMyid.code, 2);
  t.match(noMyid.stderr, /\(myid\).*myid file missing/);
});
