// The SDK against a server that serves HTTPS and requires a client certificate (tlsClientAuth=need): the client's
// `tls` option (a private CA, a certificate and its key) reaches the server over fetch and the watch WebSocket,
// authenticates as x509:<subject DN>, and without a certificate the client cannot connect.
import t from 'tap';
import { rmSync } from 'node:fs';
import { makePki, serverTlsFiles } from '../helpers/certs.js';
import { startTestServer, tempDir } from '../helpers/server.js';
import { ZkClient, ZkClientError, isZkError } from '../../client/index.js';

const pki = makePki();
const dir = tempDir('zkgate-sdk-tls-');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const app = pki.client([['O', 'Example'], ['CN', 'app']]);
const other = pki.client([['CN', 'other']]);

t.test('tls: the SDK connects with a private CA and a client certificate, and is that x509 identity', async (t) => {
  const s = await startTestServer(serverTlsFiles(dir, pki));
  t.teardown(() => s.destroy());
  const c = await ZkClient.connect({ servers: s.url, tls: { ca: pki.ca.cert, cert: app.cert, key: app.key } });
  t.teardown(() => c.close());
  t.equal(c.state, 'SyncConnected', 'session and watch stream over HTTPS and WSS');
  await c.create('/sdk-tls', 'v1', { acl: [{ scheme: 'x509', id: 'CN=app,O=Example', perms: 'cdrwa' }] });
  const fired = await c.watchOnce('/sdk-tls', 'data');
  await c.setData('/sdk-tls', 'v2');
  t.match(await fired.fired, { type: 'NodeDataChanged', path: '/sdk-tls' }, 'a watch event arrives over WSS');
  t.equal((await c.getString('/sdk-tls')).data, 'v2', 'the x509-protected node reads back for its owner');

  const o = await ZkClient.connect({ servers: s.url, session: false, tls: { ca: pki.ca.cert, cert: other.cert, key: other.key } });
  t.teardown(() => o.close());
  t.ok(isZkError(await o.getData('/sdk-tls').catch((e: unknown) => e), 'NoAuth'), 'another certificate is another identity: NoAuth');

  const noCert = await ZkClient.connect({ servers: s.url, tls: { ca: pki.ca.cert }, maxRetries: 0, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
  t.ok(noCert instanceof ZkClientError && noCert.zkName === 'ConnectionLoss', `without a certificate the client cannot connect (${String(noCert)})`);
  t.throws(() => new ZkClient({ servers: s.url, tls: { cert: app.cert } }), /tls\.cert and tls\.key go together/, 'a certificate without its key is refused at once');
});
