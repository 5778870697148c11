// The server list members compare in the peer handshake: its canonical text, what a peer may send, and the
// words the refusal uses for each kind of difference.
import t from 'tap';
import { describeDifferences, membershipDifferences, membershipText, parseMembership, type Member } from '../../server/quorum/membership.js';

const three: Member[] = [
  { id: 1, host: '10.0.0.1', peerPort: 2888, electionPort: 3888, role: 'participant' },
  { id: 2, host: '10.0.0.2', peerPort: 2888, electionPort: 3888, role: 'participant' },
  { id: 3, host: '10.0.0.3', peerPort: 2888, electionPort: 3888, role: 'participant' },
];
const with4 = (m: Partial<Member> = {}): Member[] => [...three, { id: 4, host: '10.0.0.4', peerPort: 2888, electionPort: 3888, role: 'participant', ...m }];
const change = (id: number, m: Partial<Member>): Member[] => three.map((s) => (s.id === id ? { ...s, ...m } : s));

t.test('the canonical text: sorted by id, host in lower case, no HTTP part, and it reads back', async (t) => {
  const text = membershipText([{ ...three[2], host: 'ZK3.Example.com' } as Member, ...three.slice(0, 2)]);
  t.equal(text, 'server.1=10.0.0.1:2888:3888:participant\nserver.2=10.0.0.2:2888:3888:participant\nserver.3=zk3.example.com:2888:3888:participant');
  const http = [{ ...three[0], httpHost: '10.0.0.1', httpPort: 8080 }, three[1], three[2]] as Member[];
  t.equal(membershipText(http), membershipText(three), 'the HTTP address is not part of it');
  t.same(parseMembership(membershipText(three)), three);
});

t.test('a list this build cannot have written is refused', async (t) => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `server.${i + 1}=h${i}:1:1:participant`).join('\n');
  t.doesNotThrow(() => parseMembership(lines(254)), '254 servers, server.1 to server.254');
  t.throws(() => parseMembership(lines(255)), /more than 254/);
  t.throws(() => parseMembership('server.0=a:1:1:participant'), /out of range/, 'server.0');
  t.throws(() => parseMembership('x'.repeat(1 << 20)), /too long/, 'a megabyte is not read line by line');
  t.throws(() => parseMembership(''), 'empty');
  t.throws(() => parseMembership('server.2=a:1:1:participant\nserver.1=b:1:1:participant'), /order/, 'unsorted');
  t.throws(() => parseMembership('server.1=a:1:1:participant\nserver.1=b:2:2:participant'), /order/, 'an id twice');
  t.throws(() => parseMembership('server.1=a:1:1:participant;a:8080'), /malformed/, 'an HTTP part');
  t.throws(() => parseMembership('zoo.1=a:1:1:participant'), 'not a server line');
  t.throws(() => parseMembership('server.1=a\u001b[2J:1:1:participant'), /malformed/, 'control characters');
  t.throws(() => parseMembership(`server.1=${'a'.repeat(400)}:1:1:participant`), /malformed/, 'an overlong line');
  t.throws(() => parseMembership('server.1=a:1:1:leader'), /role/);
});

t.test('the same servers and roles are no difference, whatever addresses each member gives them', async (t) => {
  t.same(membershipDifferences(three, [...three].reverse()), []);
  t.same(membershipDifferences(change(3, { host: 'ZK3' }), change(3, { host: 'zk3.example.com' })), [], 'a host by another name');
  t.same(membershipDifferences(three, change(1, { host: '0.0.0.0' })), [], 'a member listing itself on every interface');
  t.same(membershipDifferences(three, change(2, { host: '10.0.0.9', peerPort: 2889, electionPort: 3889 })), [], 'an address behind NAT or a proxy');
});

t.test('each kind of difference, named from this member ("here") and the peer ("it", "there")', async (t) => {
  t.same(membershipDifferences(three, with4()), ['it lists server.4=10.0.0.4:2888:3888:participant, which this member does not']);
  t.same(membershipDifferences(with4({ role: 'observer' }), three), ['this member lists server.4=10.0.0.4:2888:3888:observer, which it does not']);
  t.same(membershipDifferences(three, change(3, { role: 'observer' })), ['server.3 has role participant here, observer there']);
  t.same(
    membershipDifferences(three, [...change(2, { role: 'observer' }), ...with4().slice(3)]),
    ['server.2 has role participant here, observer there', 'it lists server.4=10.0.0.4:2888:3888:participant, which this member does not'],
    'every difference, in id order',
  );
});

t.test('a long list of differences names the first five and counts the rest', async (t) => {
  const other = Array.from({ length: 10 }, (_, i) => ({ id: i + 10, host: 'x', peerPort: 1, electionPort: 1, role: 'participant' as const }));
  const d = membershipDifferences(three, other);
  t.equal(d.length, 13);
  const text = describeDifferences(d);
  t.equal(text.split('; ').length, 6);
  t.match(text, /^this member lists server\.1=10\.0\.0\.1:2888:3888:participant, which it does not; /);
  t.match(text, /; and 8 more differences$/);
  t.equal(describeDifferences(d.slice(0, 6)), `${d.slice(0, 5).join('; ')}; and 1 more difference`);
  t.equal(describeDifferences(d.slice(0, 2)), d.slice(0, 2).join('; '));
});
