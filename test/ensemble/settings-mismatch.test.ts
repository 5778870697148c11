// A member whose jute.maxbuffer differs from the others' is refused when it links, with the setting named, instead of
// wedging the ensemble at the first write larger than its peer frames can carry (server/quorum/membership-check.ts).
import t from 'tap';
import { startEnsemble } from '../helpers/ensemble.js';
import { zk } from '../cli/run.js';
import { req, retry } from './client.js';

interface Member {
  id: number;
  connected: boolean;
  linkError: string | null;
}

const members = async (url: string) => (await req(`${url}/v1/admin/cluster`)).body.members as Member[];

t.test('a member with another jute.maxbuffer is refused by both others, says which setting, and joins once it matches', async (t) => {
  let fixed = false;
  const ens = await startEnsemble({ extraFor: (id) => (id === 3 && !fixed ? ['jute.maxbuffer=4194304'] : []) });
  t.teardown(() => ens.destroy());
  const leader = await ens.waitForLeader(30000, [1, 2]);
  const p3 = `127.0.0.1:${ens.node(3).peerPort}`;
  const seen = await retry(() => members(ens.node(leader).url), (ms) => /jute/.test(ms.find((m) => m.id === 3)?.linkError ?? ''));
  t.match(
    seen.find((m) => m.id === 3),
    { connected: false, linkError: `peer 3 at ${p3} has jute.maxbuffer=4194304 where this member has jute.maxbuffer=1048575: every member needs the same` },
    "the leader's cluster view names the setting and both values",
  );
  t.match(ens.node(3).child?.stdout(), /"msg":"peer [12] at 127\.0\.0\.1:\d+ has jute\.maxbuffer=1048575 where this member has jute\.maxbuffer=4194304: every member needs the same"/, 'member 3 logs it from its side');
  const status = await zk(['status', '--url', ens.node(3).url]);
  t.equal(status.code, 1, 'zkgate status on member 3: not serving');
  t.match(status.stdout, /Mode: looking\nUnlinked peer: peer [12] at \S+ has jute\.maxbuffer=1048575/, 'and it says why');

  t.equal((await req(`${ens.node(leader).url}/v1/znodes/big`, 'POST', 'v')).status, 201, 'members 1 and 2 take writes');

  await ens.kill(3);
  fixed = true;
  await ens.start(3);
  const joined = await retry(() => req(`${ens.node(3).url}/v1/znodes/big?stat`), (r) => r.status === 200, 20000);
  t.equal(joined.status, 200, 'the corrected member joins and receives the data');
  const healed = await retry(() => members(ens.node(leader).url), (ms) => ms.find((m) => m.id === 3)?.connected === true);
  t.match(healed.find((m) => m.id === 3), { connected: true, linkError: null }, 'the reason is gone from the cluster view');
});
