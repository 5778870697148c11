// HTTPS and WSS on the client port (server/tls.ts): only TLS is spoken there once configured; with a client CA a
// certificate authenticates as x509:<subject DN> for ACLs (ZooKeeper's X509AuthenticationProvider), `need` refuses
// clients without one and `want` serves them unauthenticated.
import t from 'tap';
import { request } from 'node:https';
import type tls from 'node:tls';
import { connect as tlsConnect } from 'node:tls';
import { request as plainRequest } from 'node:http';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { makePki, serverTlsFiles, tlsHandshake, type Pem } from '../helpers/certs.js';
import { freePort, startTestServer, tempDir } from '../helpers/server.js';
import { subjectDn } from '../../server/tls.js';
import { logInto } from '../helpers/log.js';

const pki = makePki();
const dir = tempDir('zkgate-tls-');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const { tlsClientCaFile: caFile, ...files } = serverTlsFiles(dir, pki);
const alice = pki.client([['O', 'Example'], ['OU', 'eng'], ['CN', 'alice']]);
const bob = pki.client([['O', 'Example'], ['CN', 'bob']]);
const ALICE = 'CN=alice,OU=eng,O=Example';

interface Res {
  status: number;
  body: any;
}

function https(url: string, method: string, path: string, opts: { client?: Pem; ca?: string | null; body?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, {
      method,
      headers: opts.headers,
      ca: opts.ca === null ? undefined : (opts.ca ?? pki.ca.cert),
      cert: opts.client?.cert,
      key: opts.client?.key,
      agent: false,
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text });
      });
    });
    req.once('error', reject);
    req.end(opts.body);
  });
}

function wss(url: string, client?: Pem): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace('http', 'ws') + '/v1/watch', { ca: pki.ca.cert, cert: client?.cert, key: client?.key });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function frame(ws: WebSocket, msg: object): Promise<any> {
  return new Promise((resolve) => {
    const id = Math.floor(Math.random() * 1e9);
    const on = (data: Buffer) => {
      const m = JSON.parse(data.toString());
      if (m.id !== id) return;
      ws.off('message', on);
      resolve(m);
    };
    ws.on('message', on);
    ws.send(JSON.stringify({ ...msg, id }));
  });
}

const nextEvent = (ws: WebSocket): Promise<any> =>
  new Promise((resolve) => {
    const on = (data: Buffer) => {
      const m = JSON.parse(data.toString());
      if (m.type === undefined || m.id !== undefined) return;
      ws.off('message', on);
      resolve(m);
    };
    ws.on('message', on);
  });

t.test('tlsCertFile + tlsKeyFile: the client port speaks HTTPS and WSS only', async (t) => {
  const s = await startTestServer(files);
  t.teardown(() => s.destroy());
  const url = s.url;
  t.match(url, /^https:\/\//, 'the server gives its address as https://');
  t.equal((await https(url, 'GET', '/v1/admin/ruok')).status, 200, 'HTTPS answers');
  await t.rejects(https(url, 'GET', '/v1/admin/ruok', { ca: null }), /self.signed|unable to verify|certificate/i, 'with the configured certificate, not one the client would trust blindly');
  await t.rejects(
    new Promise((resolve, reject) => plainRequest(url.replace('https:', 'http:') + '/v1/admin/ruok', (r) => resolve(r.statusCode)).once('error', reject).end()),
    'plain HTTP gets no answer',
  );
  t.equal((await https(url, 'POST', '/v1/znodes/tls-a', { body: 'v1' })).status, 201, 'a plain create (fast path) over TLS');
  const ws = await wss(url);
  t.teardown(() => ws.close());
  t.match(await frame(ws, { op: 'watch', path: '/tls-a', kind: 'data' }), { ok: true }, 'a watch over WSS');
  const event = nextEvent(ws);
  t.equal((await https(url, 'PUT', '/v1/znodes/tls-a', { body: 'v2' })).status, 200, 'a plain set (fast path) over TLS');
  t.match(await event, { type: 'event', event: 'NodeDataChanged', path: '/tls-a' }, 'its event arrives over WSS');
  t.same((await https(url, 'GET', '/v1/znodes/tls-a')).body.data, 'v2', 'a plain read (fast path) over TLS');
  // The connection bookkeeping follows the TLS socket the requests and the upgrade arrive on, not the TCP one under it.
  t.match((await https(url, 'GET', '/metrics')).body, /^zkgate_ws_connections 1$/m, 'the WSS connection is counted as a WebSocket');
  const cons = (await https(url, 'GET', '/v1/admin/cons')).body as { connections: { kind: string; requests: number }[] };
  t.same(cons.connections.filter((c) => c.kind === 'ws').length, 1, 'cons lists it as one');
});

t.test('maxClientCnxns over TLS: the connection past the bound is closed before its handshake', async (t) => {
  const s = await startTestServer({ ...files, maxClientCnxns: 1 });
  t.teardown(() => s.destroy());
  const held = await wss(s.url);
  t.teardown(() => held.close());
  await t.rejects(https(s.url, 'GET', '/v1/admin/ruok'), /socket hang up|ECONNRESET|disconnected/i, 'a second connection from 127.0.0.1 gets no handshake');
  held.close();
  await new Promise((r) => held.once('close', r));
  let status = 0;
  let refused = 1;
  // The server frees the slot when its side of the socket closes, a moment after ours; a try before that is refused too.
  for (let i = 0; i < 50 && status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
    status = await https(s.url, 'GET', '/metrics').then((r) => r.status, () => 0);
    if (status === 0) refused++;
  }
  t.equal(status, 200, 'served once the first is closed');
  t.match((await https(s.url, 'GET', '/metrics')).body, new RegExp(`^zkgate_client_connections_refused_total ${refused}$`, 'm'), 'and every refusal counted');
});

/** A TLS handshake with the client port: the version and suite it settles on, or the handshake's error. */
function handshake(url: string, opts: tls.ConnectionOptions = {}): Promise<{ protocol: string | null; cipher: string }> {
  return tlsHandshake({ port: Number(new URL(url).port), ca: pki.ca.cert, servername: 'localhost', ...opts });
}

t.test('tlsProtocols and tlsCiphers: the client port accepts only those versions and suites', async (t) => {
  const only13 = await startTestServer({ ...files, tlsProtocols: ['TLSv1.3'] });
  t.teardown(() => only13.destroy());
  t.match(await handshake(only13.url), { protocol: 'TLSv1.3' }, 'tlsProtocols=TLSv1.3: a TLSv1.3 client is served');
  await t.rejects(handshake(only13.url, { maxVersion: 'TLSv1.2' }), 'and a TLSv1.2 one refused');
  t.equal((await https(only13.url, 'GET', '/v1/admin/ruok')).status, 200, 'HTTPS works over it');

  const suite = await startTestServer({ ...files, tlsProtocols: ['TLSv1.2'], tlsCiphers: 'ECDHE-RSA-AES128-GCM-SHA256' });
  t.teardown(() => suite.destroy());
  t.same(await handshake(suite.url), { protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES128-GCM-SHA256' }, 'tlsProtocols=TLSv1.2 with one suite: a default client gets exactly that');
  await t.rejects(handshake(suite.url, { ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' }), 'a client offering only another suite is refused');
  await t.rejects(handshake(suite.url, { minVersion: 'TLSv1.3' }), 'and a TLSv1.3-only client');
});

t.test('tlsClientCaFile (need): a client certificate is required and authenticates as x509:<subject DN>', async (t) => {
  const s = await startTestServer({ ...files, tlsClientCaFile: caFile });
  t.teardown(() => s.destroy());
  const url = s.url;
  await t.rejects(https(url, 'GET', '/v1/admin/ruok'), 'a client without a certificate is refused in the handshake');
  const stranger = makePki().client([['CN', 'alice']]);
  await t.rejects(https(url, 'GET', '/v1/admin/ruok', { client: stranger }), 'a certificate from another CA is refused');
  const made = await https(url, 'POST', `/v1/znodes/alice-only?acl=${encodeURIComponent(`x509:${ALICE}:cdrwa`)}`, { client: alice, body: 'secret' });
  t.equal(made.status, 201, 'alice creates a node only her certificate may use');
  const mine = await https(url, 'GET', '/v1/znodes/alice-only', { client: alice });
  t.equal(mine.status, 200, 'alice reads it (the routes, not the address-only fast path)');
  t.equal(mine.body.data, 'secret');
  const theirs = await https(url, 'GET', '/v1/znodes/alice-only', { client: bob });
  t.equal(theirs.status, 403, 'bob may not');
  t.equal(theirs.body.error, 'NoAuth');
  t.equal((await https(url, 'PUT', '/v1/znodes/alice-only', { client: bob, body: 'x' })).status, 403, 'nor write it (fast-path shape)');
  t.equal((await https(url, 'PUT', '/v1/znodes/alice-only', { client: alice, body: 'secret2' })).status, 200, 'a plain set by alice (fast-path shape) is hers');
  const viaAuth = await https(url, 'POST', `/v1/znodes/alice-auth?acl=${encodeURIComponent('auth::cdrwa')}`, { client: alice });
  t.equal(viaAuth.status, 201, 'the auth scheme takes the certificate as an authenticated identity');
  const acl = await https(url, 'GET', '/v1/acl/alice-auth', { client: alice });
  t.match(acl.body.acl, [{ scheme: 'x509', id: ALICE, perms: 'cdrwa' }], 'and expands to x509:<her DN>');
  const aliceWs = await wss(url, alice);
  t.teardown(() => aliceWs.close());
  t.match(await frame(aliceWs, { op: 'watch', path: '/alice-only', kind: 'data' }), { ok: true }, 'alice watches it over WSS');
  const bobWs = await wss(url, bob);
  t.teardown(() => bobWs.close());
  t.match(await frame(bobWs, { op: 'watch', path: '/alice-only', kind: 'data' }), { ok: false, error: 'NoAuth' }, 'bob may not');
});

t.test('tlsClientAuth=want: a client without a certificate is served, unauthenticated', async (t) => {
  const s = await startTestServer({ ...files, tlsClientCaFile: caFile, tlsClientAuth: 'want' });
  t.teardown(() => s.destroy());
  const url = s.url;
  t.equal((await https(url, 'POST', `/v1/znodes/w?acl=${encodeURIComponent(`x509:${ALICE}:cdrwa`)}`, { client: alice })).status, 201);
  t.equal((await https(url, 'GET', '/v1/admin/ruok')).status, 200, 'no certificate: served');
  t.equal((await https(url, 'GET', '/v1/znodes/w')).status, 403, 'but it is nobody');
  t.equal((await https(url, 'GET', '/v1/znodes/w', { client: alice })).status, 200);
});

t.test('x509SuperUser: that certificate skips ACL checks and may read the admin endpoints, as the super digest user', async (t) => {
  const s = await startTestServer({ ...files, tlsClientCaFile: caFile, x509SuperUser: ALICE });
  t.teardown(() => s.destroy());
  const url = s.url;
  t.equal((await https(url, 'POST', `/v1/znodes/bobs?acl=${encodeURIComponent('x509:CN=bob,O=Example:cdrwa')}`, { client: bob, body: 'b' })).status, 201);
  const read = await https(url, 'GET', '/v1/znodes/bobs', { client: alice });
  t.equal(read.status, 200, "the super user reads bob's node");
  t.equal(read.body.data, 'b');
  t.equal((await https(url, 'GET', '/v1/admin/conf', { client: alice })).status, 200, 'and the admin endpoints');
  t.equal((await https(url, 'GET', '/v1/admin/conf', { client: bob })).status, 403, 'bob (a verified certificate, not the super user) may not read them: 403, as for another digest user');
  t.equal((await https(url, 'DELETE', '/v1/znodes/bobs', { client: alice })).status, 204, "nor would ACLs stop the super user deleting bob's node");
});

t.test('the subject DN is written as RFC 2253 (Java X500Principal.getName), most specific first, escaped', async (t) => {
  t.equal(subjectDn('C=US\nO=Example\nOU=eng\nCN=alice'), 'CN=alice,OU=eng,O=Example,C=US');
  t.equal(subjectDn('O=A\\, Inc.\nCN=\\ x\\+y'), 'CN=\\ x\\+y,O=A\\, Inc.', 'values as OpenSSL escapes them (RFC 2253)');
  t.equal(subjectDn('OU=one\nCN=c\nOU=two'), 'OU=two,CN=c,OU=one', 'a repeated attribute keeps its place');
  t.not(subjectDn('OU=a\nCN=carol\nOU=b'), subjectDn('OU=b\nCN=carol\nOU=a'), 'so two orders are two identities');
  t.equal(subjectDn('O=Example\nOU=eng + CN=alice'), 'OU=eng+CN=alice,O=Example', 'a multi-valued RDN stays one');
  t.not(subjectDn('O=Example\nOU=eng + CN=alice'), subjectDn('O=Example\nOU=eng\nCN=alice'));
});

/** A plain-HTTP request: status, content type and body text. */
function plain(url: string, method = 'GET'): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = plainRequest(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString() }));
    });
    req.once('error', reject);
    req.end(method === 'POST' ? 'x' : undefined);
  });
}

t.test('metricsPort: plain-HTTP health and metrics beside a client port that needs a certificate', async (t) => {
  const metricsPort = await freePort();
  const s = await startTestServer({ ...files, tlsClientCaFile: caFile, metricsPort });
  t.teardown(() => s.destroy());
  await t.rejects(https(s.url, 'GET', '/v1/admin/ruok'), 'the client port still refuses a client without a certificate');
  const m = `http://127.0.0.1:${metricsPort}`;
  t.same(await plain(`${m}/v1/admin/ruok`), { status: 200, type: 'text/plain', text: 'imok' }, 'ruok, as a health check asks it');
  t.same(JSON.parse((await plain(`${m}/v1/admin/ready`)).text), { ready: true, mode: 'standalone' }, 'ready, as a readiness probe asks it');
  t.equal((await https(s.url, 'POST', '/v1/znodes/counted', { client: alice, body: 'v' })).status, 201);
  const count = (await https(s.url, 'GET', '/v1/admin/srvr', { client: alice })).body.nodeCount as number;
  const metrics = await plain(`${m}/metrics`);
  t.equal(metrics.status, 200);
  t.match(metrics.text, new RegExp(`^zkgate_znodes ${count}$`, 'm'), "/metrics: the node's own gauges");
  t.match(metrics.text, /zkgate_requests_total\{[^}]*op="create"[^}]*\} 1/, 'and the client port\'s request counts');
  t.match(JSON.parse((await plain(`${m}/v1/admin/srvr`)).text), { mode: 'standalone', nodeCount: count }, 'srvr');
  t.match(JSON.parse((await plain(`${m}/v1/admin/mntr`)).text), { zk_server_state: 'standalone', zk_znode_count: count }, 'mntr');
  t.match(JSON.parse((await plain(`${m}/v1/admin/cluster`)).text), { myid: null, members: [] }, 'cluster');
  for (const [method, path] of [['GET', '/v1/znodes/counted'], ['POST', '/v1/znodes/other'], ['GET', '/v1/admin/conf'], ['GET', '/v1/admin/dump'], ['GET', '/docs']]) {
    const r = await plain(`${m}${path}`, method);
    t.equal(r.status, 404, `${method} ${path}: not served there`);
    t.match(JSON.parse(r.text), { error: 'Unimplemented', code: -6, message: /metrics port/ }, 'a ZooKeeper-style error naming what the port serves');
  }
  t.equal((await https(s.url, 'GET', '/v1/znodes/other', { client: alice })).status, 404, 'the POST made nothing');
});

// Node 20's HTTPS server fails a connection whose bytes arrive while its own back-pressure has paused its parser
// (HPE_PAUSED): a client that pipelines over TLS meets it once answers fill the connection faster than it takes
// them. That is no bad request of the client's, and answers may be under way on the connection, so the server closes
// it without a MarshallingError after them and logs why. Method: pipelined GETs of a 600 KB node, sent in runs so
// that bytes keep arriving after Node pauses.
t.test('a TLS client pipelining past Node\'s back-pressure: closed with a warning saying why, no 400', async (t) => {
  const lines: { level: number; msg: string }[] = [];
  const s = await startTestServer({ ...files, blockingReadMaxWaitMs: 60000 }, logInto(lines, 'warn'));
  t.teardown(() => s.destroy());
  // Large answers: a connection's requests run one at a time (request-order.ts), so what fills Node's buffers is
  // the answer being written while more requests arrive.
  t.equal((await https(s.url, 'POST', '/v1/znodes/tlsp', { body: 'v'.repeat(600 * 1024) })).status, 201);
  const sock = tlsConnect({ port: s.port, host: '127.0.0.1', ca: pki.ca.cert, servername: 'localhost' });
  t.teardown(() => sock.destroy());
  sock.on('error', () => {});
  await new Promise((r) => sock.once('secureConnect', r));
  let received = '';
  sock.on('data', (d: Buffer) => (received += d.toString('latin1')));
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  const one = `GET /v1/znodes/tlsp HTTP/1.1\r\nHost: x\r\nX-Pad: ${'x'.repeat(500)}\r\n\r\n`;
  for (let i = 0; i < 30 && !isClosed; i++) {
    sock.write(one.repeat(100));
    await new Promise((r) => setTimeout(r, 5));
  }
  // Unref'd: the socket keeps the process alive until it closes or this fires, and the file need not wait 10 s to exit.
  await Promise.race([closed, new Promise((r) => setTimeout(r, 10000).unref())]);
  t.ok(isClosed, 'the server closed the connection');
  t.notMatch(received, /MarshallingError|HTTP\/1\.1 400/, 'without an answer blaming the request');
  const warning = lines.find((l) => /HPE_PAUSED/.test(l.msg));
  t.match(warning?.msg, /closed a TLS connection from 127\.0\.0\.1 that pipelines requests .*HPE_PAUSED.*should not pipeline over TLS/, 'and a warning says why');
  t.equal((await https(s.url, 'GET', '/v1/znodes/tlsp')).status, 200, 'other connections are served');
});
