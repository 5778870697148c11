// The peer port before a handshake ends is open to anyone who can reach it: frames of any shape, from a process that
// knows no secret, end that connection and never a member (server/quorum/peer-handshake.ts readHandshake).
import t from 'tap';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startEnsemble } from '../helpers/ensemble.js';
import { encodeValue, frame } from '../../server/quorum/frames.js';
import { req } from './client.js';

const hello = () => frame(encodeValue({ t: 'hello', id: 1, nonce: randomBytes(16) }));
const CASES: Record<string, Buffer> = {
  null: frame(encodeValue(null)),
  'a number': frame(encodeValue(42)),
  'a hello without a nonce': frame(encodeValue({ t: 'hello', id: 1 })),
  'a hello with a string id': frame(encodeValue({ t: 'hello', id: '1', nonce: randomBytes(16) })),
  'an auth with a null proof': Buffer.concat([hello(), frame(encodeValue({ t: 'auth', proof: null }))]),
  'a refusal whose reason is an object': Buffer.concat([hello(), frame(encodeValue({ t: 'denied', reason: { toString: 1 } }))]),
  'a refusal whose claim is a number': Buffer.concat([hello(), frame(encodeValue({ t: 'denied', reason: 'x', members: 5 }))]),
};

/** Sends `bytes` and resolves once the member has closed the connection (or after 3 s, with what was left open). */
function send(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    const timer = setTimeout(() => {
      s.destroy();
      resolve('left open');
    }, 3000);
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

t.test('malformed handshake frames on every peer port leave every member running, and the ensemble writing', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  await ens.waitForLeader();
  for (const [what, bytes] of Object.entries(CASES)) {
    const ends = await Promise.all([1, 2, 3].map((id) => send(ens.node(id).peerPort, bytes)));
    t.same(ends, ['closed', 'closed', 'closed'], `${what}: every member closed the connection`);
    for (const id of [1, 2, 3]) t.equal(ens.node(id).child?.proc.exitCode, null, `${what}: member ${id} still runs`);
  }
  const leader = await ens.waitForLeader();
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/after-garbage`, 'POST', 'x')).status, 201, 'and the ensemble takes writes');
});

t.test("a process that took a stopped member's peer port answers the dialers with nonsense: they stay up", async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  await ens.waitForLeader();
  await ens.kill(3);
  const { createServer } = await import('node:net');
  let answered = 0;
  const open = new Set<import('node:net').Socket>();
  const fake = createServer((s) => {
    answered++;
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {});
    s.end(answered % 2 === 0 ? frame(encodeValue(null)) : frame(encodeValue({ t: 'challenge', id: 3, nonce: 7, proof: null })));
  });
  await new Promise<void>((r) => fake.listen(ens.node(3).peerPort, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        fake.close(() => r());
        for (const s of open) s.destroy();
      }),
  );
  for (let i = 0; i < 100 && answered < 4; i++) await new Promise((r) => setTimeout(r, 100));
  t.ok(answered >= 4, `the dialers reached it ${answered} times`);
  for (const id of [1, 2]) t.equal(ens.node(id).child?.proc.exitCode, null, `member ${id} still runs`);
  const leader = await ens.waitForLeader(30000, [1, 2]);
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/still`, 'POST', 'x')).status, 201, 'and the two take writes');
});

t.test('idle connections held open on a peer port do not keep a restarted member from linking', async (t) => {
  const ens = await startEnsemble();
  t.teardown(() => ens.destroy());
  await ens.waitForLeader();
  // 60 connections that never say a word, each opened again as soon as the member closes it: more than the port's
  // room (4 × peers + 32), held for as long as the test runs.
  let flooding = true;
  const open = new Set<import('node:net').Socket>();
  const hold = () => {
    if (!flooding) return;
    const s = connect(ens.node(3).peerPort, '127.0.0.1');
    open.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      open.delete(s);
      setTimeout(hold, 10);
    });
  };
  for (let i = 0; i < 60; i++) hold();
  t.teardown(() => {
    flooding = false;
    for (const s of open) s.destroy();
  });
  await new Promise((r) => setTimeout(r, 500));
  await ens.kill(2);
  await ens.start(2);
  let linked = false;
  for (let i = 0; i < 100 && !linked; i++) {
    const view = (await req(`${ens.node(3).url}/v1/admin/cluster`)).body as { members: { id: number; connected: boolean }[] };
    linked = view.members.find((m) => m.id === 2)?.connected === true;
    if (!linked) await new Promise((r) => setTimeout(r, 200));
  }
  t.ok(linked, 'member 2 linked with member 3');
  await ens.kill(1);
  const leader = await ens.waitForLeader(30000, [2, 3]);
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/linked`, 'POST', 'x')).status, 201, 'and without member 1 the two still have a quorum');
});
