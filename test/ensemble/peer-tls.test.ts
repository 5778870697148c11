// Mutual TLS on the peer channel (peerTlsCertFile, peerTlsKeyFile, peerTlsCaFile) on a real 3-process ensemble:
// members whose certificates the ensemble's CA signed link and replicate; a member whose certificate another CA
// signed, or that speaks plain TCP, is refused in the TLS handshake and both sides say so; restarted with the
// right certificate it joins and catches up; after a rotation to a new CA, SIGHUP makes the members reload.
import t from 'tap';
import { rmSync } from 'node:fs';
import type tls from 'node:tls';
import { join } from 'node:path';
import { makePki, peerTlsLines, tlsHandshake, type TestPki } from '../helpers/certs.js';
import { tempDir } from '../helpers/server.js';
import { startEnsemble } from '../helpers/ensemble.js';
import { req, retry } from './client.js';

interface Member {
  id: number;
  connected: boolean;
  linkError: string | null;
}

const dir = tempDir('zkgate-peer-tls-');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const ensembleCa = makePki();
const otherCa = makePki();

/** Member `id`'s peer TLS lines from `pki`, its files named after the CA's `name` (rewritten in place by a rotation). */
const tlsLines = (pki: TestPki, name: string, id: number) => peerTlsLines(dir, pki, `zkgate peer ${id}`, `${name}-${id}-`);

const members = async (url: string) => (await req(`${url}/v1/admin/cluster`)).body.members as Member[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('peer TLS: the CA decides who links; the wrong CA or plain TCP is refused, and both sides say so', async (t) => {
  const good = [1, 2, 3].map((id) => tlsLines(ensembleCa, 'ensemble', id));
  let three: 'other CA' | 'plain' | 'ensemble CA' = 'other CA';
  const ens = await startEnsemble({
    // Member 3 serves reads without a leader (readonlymode), so that its tree shows what it never received.
    extraFor: (id) => [
      ...(id !== 3 || three === 'ensemble CA' ? (good[id - 1] as string[]) : three === 'other CA' ? tlsLines(otherCa, 'other', 3) : []),
      ...(id === 3 ? ['readonlymode.enabled=true'] : []),
    ],
  });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader(30000, [1, 2]);
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/peer-tls`, 'POST', 'x')).status, 201, 'members 1 and 2 link over TLS, elect a leader and take writes');
  // The other member applies the write once the leader's next message tells it the write committed: retry.
  t.equal((await retry(() => req(`${ens.node(3 - leader).url}/v1/znodes/peer-tls`), (r) => r.status === 200)).status, 200, 'and the write reaches the other one');

  // Member 1 dials 3: it checks 3's certificate against the ensemble CA and gives up in the handshake.
  const seen = await retry(() => members(ens.node(1).url), (ms) => /TLS/.test(ms.find((m) => m.id === 3)?.linkError ?? ''));
  t.match(seen.find((m) => m.id === 3), { connected: false, linkError: /^peer 3 unreachable at 127\.0\.0\.1:\d+: \S+ \(TLS: .+\)$/ }, "member 1's cluster view says the TLS handshake failed");
  await retry(async () => ens.node(3).child?.stdout() ?? '', (out) => /failed the TLS handshake/.test(out));
  t.match(ens.node(3).child?.stdout(), /"msg":"(peer connection from 127\.0\.0\.1|a peer connection) failed the TLS handshake \([^)]+\): is peer TLS configured alike on every member\?"/, 'member 3 logs the refusals');
  await sleep(2000); // several election timeouts
  t.equal((await req(`${ens.node(3).url}/v1/admin/srvr`)).body.mode, 'looking', 'member 3 never joins');
  t.equal((await req(`${ens.node(3).url}/v1/znodes/peer-tls`)).status, 404, 'nor receives the data');

  three = 'plain';
  await ens.kill(3);
  await ens.start(3);
  await retry(async () => ens.node(3).child?.stdout() ?? '', (out) => /speaks TLS/.test(out));
  t.match(ens.node(3).child?.stdout(), /"msg":"peer connection from 127\.0\.0\.1 speaks TLS, and this member has no peer TLS \(peerTlsCertFile, peerTlsKeyFile, peerTlsCaFile\)"/, 'a member without peer TLS names what it lacks');
  await sleep(1000);
  t.equal((await req(`${ens.node(3).url}/v1/admin/srvr`)).body.mode, 'looking', 'and does not join');

  three = 'ensemble CA';
  await ens.kill(3);
  await ens.start(3);
  const joined = await retry(() => req(`${ens.node(3).url}/v1/znodes/peer-tls`), (r) => r.status === 200, 20000);
  t.equal(joined.status, 200, 'with a certificate from the ensemble CA it joins and catches up');
  const healed = await retry(() => members(ens.node(1).url), (ms) => ms.find((m) => m.id === 3)?.connected === true);
  t.match(healed.find((m) => m.id === 3), { connected: true, linkError: null }, 'and the cluster view shows it linked');
  t.equal((await req(`${ens.node(3).url}/v1/znodes/after-join`, 'POST', 'y')).status, 201, 'a write through member 3 is forwarded over TLS');
  t.equal((await retry(() => req(`${ens.node(1).url}/v1/znodes/after-join`), (r) => r.status === 200)).status, 200, 'and replicated');
  const conf = (await req(`${ens.node(1).url}/v1/admin/conf`)).body as Record<string, unknown>;
  t.equal(conf.peerTlsKeyFile, join(dir, 'ensemble-1-peer-key.pem'), '/v1/admin/conf shows the key file path');
  t.notOk('peerTls' in conf, 'but never the PEM contents');

  // Rotation: a new CA and certificates for every member, written over the same files. Member 3 restarts on them;
  // 1 and 2 still hold the old CA, so it cannot link with them until they reload, here by SIGHUP.
  const rotated = makePki();
  for (const id of [1, 2, 3]) tlsLines(rotated, 'ensemble', id);
  await ens.kill(3);
  await ens.start(3);
  const refused = await retry(() => members(ens.node(1).url), (ms) => /TLS/.test(ms.find((m) => m.id === 3)?.linkError ?? ''));
  t.match(refused.find((m) => m.id === 3), { connected: false }, 'member 3 on the new CA cannot link with members still on the old one');
  for (const id of [1, 2]) ens.node(id).child?.proc.kill('SIGHUP');
  const rotatedIn = await retry(() => members(ens.node(1).url), (ms) => ms.find((m) => m.id === 3)?.connected === true, 20000);
  t.match(rotatedIn.find((m) => m.id === 3), { connected: true, linkError: null }, 'once members 1 and 2 reload their certificates (SIGHUP), it links');
  t.match(ens.node(1).child?.stdout(), /"msg":"TLS certificates reloaded; new connections use them"/, 'member 1 logs the reload');
  t.equal((await req(`${ens.node(3).url}/v1/znodes/after-rotation`, 'POST', 'z')).status, 201, 'and writes through member 3 go on');
  for (const id of [1, 2]) t.ok(ens.node(id).child && ens.node(id).child?.proc.exitCode === null, `member ${id} is still running after SIGHUP`);
});

/** A TLS handshake with member `port`'s peer listener, as a peer with a certificate from `pki` would start one. */
function handshake(pki: TestPki, port: number, opts: tls.ConnectionOptions): Promise<{ protocol: string | null; cipher: string }> {
  const probe = pki.peer('probe');
  return tlsHandshake({ port, cert: probe.cert, key: probe.key, ca: pki.ca.cert, checkServerIdentity: () => undefined, ...opts });
}

t.test('peerTlsProtocols and peerTlsCiphers: members link over what they allow, and a peer offering less is refused', async (t) => {
  const ens = await startEnsemble({
    extraFor: (id) => [...tlsLines(ensembleCa, 'policy', id), 'peerTlsProtocols=TLSv1.3', 'peerTlsCiphers=TLS_AES_256_GCM_SHA384'],
  });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader(30000);
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/peer-policy`, 'POST', 'x')).status, 201, 'the members link, elect a leader and take writes');
  const other = leader === 1 ? 2 : 1;
  t.equal((await retry(() => req(`${ens.node(other).url}/v1/znodes/peer-policy`), (r) => r.status === 200)).status, 200, 'and replicate');
  const port = ens.node(other).peerPort;
  t.same(await handshake(ensembleCa, port, {}), { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' }, 'a peer link is TLSv1.3 with the configured suite');
  await t.rejects(handshake(ensembleCa, port, { maxVersion: 'TLSv1.2' }), 'a peer offering only TLSv1.2 is refused');
  await t.rejects(handshake(ensembleCa, port, { ciphers: 'TLS_AES_128_GCM_SHA256' }), 'and one offering only another suite');
});

t.test('peerTlsVerifyHostname: a peer certificate that does not name its server.N host is refused, dialing or accepting', async (t) => {
  // Member 2's certificate names another host: member 1 dials it (the dialer's check) and it dials member 3 (the
  // acceptor's check). Members 1 and 3 name 127.0.0.1, the host of every server.N line here.
  let twoNames = ['zk2.example'];
  const ens = await startEnsemble({
    extraFor: (id) => [...peerTlsLines(dir, ensembleCa, `zkgate peer ${id}`, `names-${id}-`, id === 2 ? twoNames : ['127.0.0.1', 'localhost']), 'peerTlsVerifyHostname=true'],
  });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader(30000, [1, 3]);
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/named`, 'POST', 'x')).status, 201, 'members 1 and 3, whose certificates name their hosts, link and take writes');
  const linkError = async (at: number, of: number, re: RegExp) =>
    (await retry(() => members(ens.node(at).url), (ms) => re.test(ms.find((m) => m.id === of)?.linkError ?? ''))).find((m) => m.id === of)?.linkError;
  t.match(await linkError(1, 2, /altnames/), /^peer 2 unreachable at 127\.0\.0\.1:\d+: ERR_TLS_CERT_ALTNAME_INVALID \(TLS: .*127\.0\.0\.1.*\)$/, 'member 1, dialing 2, refuses its certificate');
  t.match(await linkError(3, 2, /does not name/), /^peer 2 at 127\.0\.0\.1:\d+ was refused: its certificate does not name 127\.0\.0\.1 \(/, 'member 3, accepting 2, refuses it too');
  t.match(await linkError(2, 3, /refused us/), /^peer 3 at 127\.0\.0\.1:\d+ refused us: certificate does not name 127\.0\.0\.1$/, 'and member 2 is told why');
  t.equal((await req(`${ens.node(2).url}/v1/admin/srvr`)).body.mode, 'looking', 'member 2 does not join');

  twoNames = ['127.0.0.1'];
  await ens.kill(2);
  await ens.start(2);
  t.equal((await retry(() => req(`${ens.node(2).url}/v1/znodes/named`), (r) => r.status === 200, 20000)).status, 200, 'with a certificate naming its host it joins and catches up');
});
