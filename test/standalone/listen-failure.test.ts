// What `zkgate server` prints and its exit code when a port cannot be bound (server/listen-failure.ts). A host name
// that does not resolve is a bad value (API.md §1: exit 2, naming the key). Built from the errors Node raises, since a
// real lookup of an unknown name would leave loopback.
import t from 'tap';
import { defaultConfig } from '../../server/config.js';
import { listenFailure } from '../../server/listen-failure.js';

function err(code: string, extra: Record<string, unknown>): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ${code}`), { code, ...extra });
}

t.test('a host name that does not resolve exits 2 naming the key that holds it', async (t) => {
  const cfg = { ...defaultConfig(), httpHost: 'no-such-host.invalid' };
  t.same(listenFailure(cfg, err('ENOTFOUND', { hostname: 'no-such-host.invalid' })), {
    exit: 2,
    text: 'configuration error (clientPortAddress): cannot resolve host "no-such-host.invalid" to listen on (ENOTFOUND)',
  });
  t.match(listenFailure(cfg, err('EAI_AGAIN', { hostname: 'no-such-host.invalid' })), { exit: 2, text: /\(clientPortAddress\).*EAI_AGAIN/ }, 'a resolver that does not answer too');
  const metrics = { ...defaultConfig(), metricsHost: 'metrics.invalid', metricsPort: 9141 };
  t.match(listenFailure(metrics, err('ENOTFOUND', { hostname: 'metrics.invalid' })), { exit: 2, text: /^configuration error \(metricsHost\)/ });
  const member = { ...defaultConfig(), myid: 2, servers: [{ id: 1, host: '127.0.0.1', peerPort: 2888, electionPort: 3888, role: 'participant' as const }, { id: 2, host: 'peer.invalid', peerPort: 2889, electionPort: 3889, role: 'participant' as const }] };
  t.match(listenFailure(member as typeof cfg, err('ENOTFOUND', { hostname: 'peer.invalid' })), { exit: 2, text: /^configuration error \(server\.2\)/ });
});

t.test('a port that cannot be bound exits 1 naming the port; anything else is not described', async (t) => {
  const cfg = defaultConfig();
  // As Node raises them: a listen error names its syscall.
  t.same(listenFailure(cfg, err('EADDRINUSE', { address: '127.0.0.1', port: 8080, syscall: 'listen' })), { exit: 1, text: 'cannot listen on 127.0.0.1:8080 (the HTTP port): EADDRINUSE' });
  t.same(listenFailure(cfg, err('EACCES', { address: '127.0.0.1', port: 80, syscall: 'listen' })), { exit: 1, text: 'cannot listen on 127.0.0.1:80 (the HTTP port): EACCES' }, 'not the metrics port when none is configured');
  t.equal(listenFailure(cfg, err('EMFILE', {})), null);
  // A file the server may not write (its dataDir) raised EACCES too, and was reported as the metrics port.
  t.equal(listenFailure(cfg, err('EACCES', { syscall: 'open', path: '/var/lib/zkgate/zkgate.pid' })), null, 'an EACCES on a file is no port');
});
