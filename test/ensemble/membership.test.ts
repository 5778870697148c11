// A fault on a real 3-process ensemble (see the test name), plus the fourth process the odd zoo.cfg names.
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a member whose zoo.cfg lists another ensemble is refused by both others, says why, and cannot lead', async (t) => {
  // Members 1 and 2 list servers 1-3. Member 3's zoo.cfg was edited to add a server.4 (started too, with the same
  // file): together they are 2 of the 4 voters they believe in, which is no quorum.
  let fixed = false;
  const ens = await startEnsemble({ size: 4, serversFor: (id, lines) => (id >= 3 && !fixed ? lines : lines.filter((l) => !l.startsWith('server.4='))) });
  t.teardown(() => ens.destroy());
  const [p1, p3, p4] = [1, 3, 4].map((id) => `127.0.0.1:${ens.node(id).peerPort}`);
  const extra = `server.4=${p4}:${ens.node(4).peerPort}:participant`;

  const leader = await ens.waitForLeader(30000, [1, 2]);
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/members-test`, 'POST', 'x')).status, 201, 'members 1 and 2 elect a leader and accept writes');

  const seen = await retry(() => members(ens.node(leader).url), (ms) => /different ensemble/.test(ms.find((m) => m.id === 3)?.linkError ?? ''));
  t.match(
    seen.find((m) => m.id === 3),
    { connected: false, linkError: `peer 3 at ${p3} has a different ensemble: it lists ${extra}, which this member does not` },
    "the leader's cluster view gives member 3's reason",
  );
  const fromThree = await retry(() => members(ens.node(3).url), (ms) => ms.filter((m) => /different ensemble/.test(m.linkError ?? '')).length === 2);
  t.same(
    fromThree.filter((m) => m.id <= 2).map((m) => [m.connected, m.linkError]),
    [1, 2].map((id) => [false, `peer ${id} at 127.0.0.1:${ens.node(id).peerPort} has a different ensemble: this member lists ${extra}, which it does not`]),
    "member 3's view names both refusals, from its side",
  );
  for (const id of [1, 2]) {
    t.match(ens.node(id).child?.stdout(), `"msg":"peer 3 at ${p3} has a different ensemble: it lists ${extra}, which this member does not"`, `member ${id} logs it`);
  }
  t.match(ens.node(3).child?.stdout(), `"msg":"peer 1 at ${p1} has a different ensemble: this member lists ${extra}, which it does not"`, 'member 3 logs it');

  const status = await zk(['status', '--url', ens.node(3).url]);
  t.equal(status.code, 1, 'zkgate status on member 3: not serving');
  t.match(status.stdout, `Mode: looking\nUnlinked peer: peer 1 at ${p1} has a different ensemble`, 'and it says why');

  await sleep(3000); // several election timeouts
  for (const id of [3, 4]) {
    t.equal((await req(`${ens.node(id).url}/v1/admin/srvr`)).body.mode, 'looking', `member ${id} never leads nor follows`);
  }
  t.equal((await req(`${ens.node(3).url}/v1/znodes/split`, 'POST', 'x')).status, 503, 'member 3 takes no write');
  t.equal((await req(`${ens.node(leader).url}/v1/znodes/split`)).status, 404, 'and none reaches the ensemble');

  // The operator fixes member 3's zoo.cfg and restarts it (server.4 was never meant to be); 1 and 2 keep running.
  await ens.kill(4);
  await ens.kill(3);
  fixed = true;
  await ens.start(3);
  const joined = await retry(() => req(`${ens.node(3).url}/v1/znodes/members-test`), (r) => r.status === 200, 20000);
  t.equal(joined.status, 200, 'the corrected member joins and receives the data');
  const healed = await retry(() => members(ens.node(leader).url), (ms) => ms.find((m) => m.id === 3)?.connected === true);
  t.match(healed.find((m) => m.id === 3), { connected: true, linkError: null }, 'the reason is gone from the cluster view');
});
