// Docker is not available here, so the deploy files are checked for what can be checked: the entrypoint is run
// for real (its zoo.cfg and myid read by server/zoo-cfg.ts and server/ensemble-config.ts), and the Dockerfile,
// compose file and Kubernetes manifests are parsed and cross-checked against each other and the config keys.
import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../server/zoo-cfg.js';
import { makePki, serverTlsFiles } from '../helpers/certs.js';
import { freePort, startTestServer, tempDir } from '../helpers/server.js';

const root = new URL('../../../', import.meta.url).pathname;
const entrypoint = join(root, 'deploy', 'docker-entrypoint.sh');

type Env = Record<string, string>;

interface Container {
  args: string[];
  env: { name: string; value: string }[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string }[];
}
interface StatefulSet {
  kind: 'StatefulSet';
  metadata: { name: string };
  spec: {
    serviceName: string;
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    volumeClaimTemplates: { metadata: { name: string } }[];
    template: { spec: { securityContext: { runAsNonRoot: boolean }; containers: Container[] } };
  };
}
interface Service {
  kind: 'Service';
  metadata: { name: string };
  spec: { clusterIP?: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
}
interface Pdb {
  kind: 'PodDisruptionBudget';
  spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
}
type K8sDoc = StatefulSet | Service | Pdb;
const dir = tempDir('zkgate-deploy-');
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the entrypoint with only `env` (plus PATH) and no command: it writes zoo.cfg and myid and exits. */
function runEntrypoint(env: Env): { status: number; stderr: string } {
  try {
    execFileSync('/bin/sh', [entrypoint], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stderr: '' };
  } catch (e) {
    const err = e as { status: number; stderr: Buffer };
    return { status: err.status, stderr: err.stderr.toString() };
  }
}

/** The entrypoint's output for `env`, with data and conf dirs moved under the test's temp dir. */
function generated(name: string, env: Env) {
  const dataDir = join(dir, name, 'data');
  const confDir = join(dir, name, 'conf');
  const r = runEntrypoint({ ...env, ZKGATE_DATA_DIR: dataDir, ZKGATE_CONF_DIR: confDir });
  if (r.status !== 0) throw new Error(`entrypoint failed: ${r.stderr}`);
  const cfgFile = join(confDir, 'zoo.cfg');
  return { cfg: loadConfig({ config: cfgFile }), text: readFileSync(cfgFile, 'utf8'), dataDir, myid: readFileSync(join(dataDir, 'myid'), 'utf8').trim() };
}

t.test('the entrypoint writes a zoo.cfg and myid that the config reader accepts', async (t) => {
  const g = generated('direct', {
    ZKGATE_MYID: '2',
    ZKGATE_HTTP_PORT: '9090',
    ZKGATE_TICK_TIME: '1000',
    ZKGATE_SERVERS: 'server.1=a:2888:3888;9090,server.2=b:2888:3888;9090 server.3=c:2888:3888:observer;9090',
    ZKGATE_ENSEMBLE_SECRET: 's3cret',
    ZKGATE_EXTRA_CONFIG: 'maxSessions=500',
  });
  t.equal(g.myid, '2');
  t.equal(g.cfg.myid, 2);
  t.equal(g.cfg.dataDir, g.dataDir);
  t.equal(g.cfg.httpPort, 9090);
  t.equal(g.cfg.tickTime, 1000);
  t.equal(g.cfg.maxSessions, 500);
  t.equal(g.cfg.ensembleSecret, 's3cret');
  t.same(g.cfg.servers.map((s) => [s.id, s.host, s.peerPort, s.electionPort, s.role, s.httpPort]), [
    [1, 'a', 2888, 3888, 'participant', 9090],
    [2, 'b', 2888, 3888, 'participant', 9090],
    [3, 'c', 2888, 3888, 'observer', 9090],
  ]);
  t.same(g.cfg.unknownKeys, [], 'every key it writes is one the server knows');
});

t.test('standalone: no servers, no myid file needed', async (t) => {
  const dataDir = join(dir, 'standalone', 'data');
  const confDir = join(dir, 'standalone', 'conf');
  t.equal(runEntrypoint({ ZKGATE_DATA_DIR: dataDir, ZKGATE_CONF_DIR: confDir }).status, 0);
  const cfg = loadConfig({ config: join(confDir, 'zoo.cfg') });
  t.equal(cfg.servers.length, 0);
  t.equal(cfg.httpPort, 8080);
  t.equal(cfg.dataDir, dataDir);
});

t.test('the entrypoint refuses what would make a node that cannot start (exit 2, a clear message)', async (t) => {
  const base = { ZKGATE_DATA_DIR: join(dir, 'bad', 'data'), ZKGATE_CONF_DIR: join(dir, 'bad', 'conf') };
  const noMyid = runEntrypoint({ ...base, ZKGATE_SERVERS: 'server.1=a:2888:3888' });
  t.equal(noMyid.status, 2);
  t.match(noMyid.stderr, /needs ZKGATE_MYID/);
  const badHost = runEntrypoint({ ...base, ZKGATE_SERVERS: 'server.1=a:2888:3888', ZKGATE_MYID_FROM_HOSTNAME: '1', HOSTNAME: 'zkgate' });
  t.equal(badHost.status, 2);
  t.match(badHost.stderr, /cannot derive myid from hostname 'zkgate'/);
  const badLine = runEntrypoint({ ...base, ZKGATE_MYID: '1', ZKGATE_SERVERS: 'zk1:2888:3888' });
  t.equal(badLine.status, 2);
  t.match(badLine.stderr, /is not server.N=/);
});

t.test('docker-compose: three nodes whose ports, volumes, myid and server lines agree', async (t) => {
  const compose = parse(readFileSync(join(root, 'deploy', 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { hostname: string; environment: Env; ports: string[]; volumes: string[]; healthcheck: { test: string[] } }>;
    volumes: Record<string, unknown>;
  };
  const names = Object.keys(compose.services);
  t.same(names, ['zk1', 'zk2', 'zk3']);
  const hostPorts = new Set<string>();
  for (const [name, svc] of Object.entries(compose.services)) {
    const env: Env = {};
    // Compose interpolates ${VAR:?message}; give the secret a value as an operator would.
    for (const [k, v] of Object.entries(svc.environment)) env[k] = String(v).replace(/\$\{ZKGATE_ENSEMBLE_SECRET:\?[^}]*\}/, 'compose-secret');
    const g = generated(name, env);
    t.equal(g.cfg.myid, Number(name.slice(2)), `${name}: myid`);
    t.equal(g.cfg.ensembleSecret, 'compose-secret');
    t.same(g.cfg.servers.map((s) => s.host), names, `${name}: server lines name the three services`);
    t.equal(svc.hostname, name);
    const [hostPort, containerPort] = (svc.ports[0] as string).split(':');
    hostPorts.add(hostPort as string);
    t.equal(Number(containerPort), g.cfg.httpPort, `${name}: the published port is the HTTP port`);
    t.equal(g.cfg.servers.find((s) => s.id === g.cfg.myid)?.httpPort, g.cfg.httpPort, `${name}: its server line gives the same HTTP port`);
    const [volume, target] = (svc.volumes[0] as string).split(':');
    t.equal(target, env.ZKGATE_DATA_DIR, `${name}: the volume is mounted on the data dir`);
    t.ok(volume && volume in compose.volumes, `${name}: named volume ${volume} is declared`);
    // The check reads the container's ZKGATE_METRICS_PORT (run for real in the health-check test below).
    t.match(svc.healthcheck.test.join(' '), 'process.env.ZKGATE_METRICS_PORT');
    t.equal(String(g.cfg.metricsPort), env.ZKGATE_METRICS_PORT, `${name}: the node listens on the metrics port its health check asks`);
  }
  t.equal(hostPorts.size, 3, 'each node is published on its own host port');
});

t.test('Kubernetes: StatefulSet, headless Service and PDB agree; myid comes from the pod ordinal', async (t) => {
  const docs = ['statefulset.yaml', 'service.yaml', 'pdb.yaml'].flatMap((f) =>
    parseAllDocuments(readFileSync(join(root, 'deploy', 'k8s', f), 'utf8')).map((d) => d.toJS() as K8sDoc),
  );
  const sts = docs.find((d): d is StatefulSet => d.kind === 'StatefulSet');
  const headless = docs.find((d): d is Service => d.kind === 'Service' && d.spec.clusterIP === 'None');
  const pdb = docs.find((d): d is Pdb => d.kind === 'PodDisruptionBudget');
  if (!sts || !headless || !pdb) throw new Error('deploy/k8s must hold a StatefulSet, a headless Service and a PodDisruptionBudget');
  t.equal(sts.spec.serviceName, headless.metadata.name);
  t.same(pdb.spec.selector.matchLabels, sts.spec.selector.matchLabels);
  t.same(headless.spec.selector, sts.spec.selector.matchLabels);
  t.equal(pdb.spec.maxUnavailable, 1);
  const c = sts.spec.template.spec.containers[0] as Container;
  const env: Env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
  const ports: Record<string, number> = Object.fromEntries(c.ports.map((p) => [p.name, p.containerPort]));
  t.same(c.args.slice(-2), ['--host', '0.0.0.0']);
  t.equal(c.readinessProbe.httpGet.path, '/v1/admin/ready', 'ready only once it serves, so a rolling update waits for it');
  t.equal(c.livenessProbe.httpGet.path, '/v1/admin/ruok', 'alive while it catches up');
  t.equal(c.readinessProbe.httpGet.port, 'metrics', 'probes use the plain-HTTP metrics port, which works with TLS on 8080');
  t.equal(c.livenessProbe.httpGet.port, 'metrics');
  t.equal(c.volumeMounts.find((m) => m.name === sts.spec.volumeClaimTemplates[0]?.metadata.name)?.mountPath, env.ZKGATE_DATA_DIR);
  for (const p of headless.spec.ports) t.equal(ports[p.targetPort], p.port, `headless port ${p.name}`);
  t.equal(sts.spec.template.spec.securityContext.runAsNonRoot, true);
  const secretFile = env.ZKGATE_ENSEMBLE_SECRET_FILE as string;
  const secretMount = c.volumeMounts.find((m) => secretFile.startsWith(m.mountPath + '/'));
  t.ok(secretMount, 'the ensemble secret file is on a mounted volume');
  for (let ordinal = 0; ordinal < sts.spec.replicas; ordinal++) {
    const name = `${sts.metadata.name}-${ordinal}`;
    const g = generated(name, { ...env, HOSTNAME: name, ZKGATE_ENSEMBLE_SECRET_FILE: '', ZKGATE_ENSEMBLE_SECRET: 'k8s-secret' });
    t.equal(g.cfg.myid, ordinal + 1, `${name} is myid ${ordinal + 1}`);
    const me = g.cfg.servers.find((s) => s.id === g.cfg.myid);
    t.equal(me?.host, `${name}.${headless.metadata.name}`, `${name}'s server line is its stable DNS name`);
    t.equal(me?.peerPort, ports.peer);
    t.equal(me?.electionPort, ports.election);
    t.equal(g.cfg.httpPort, ports.http);
    t.equal(g.cfg.metricsPort, ports.metrics, 'the metrics port the probes use is the one the node listens on');
    t.equal(g.cfg.servers.length, sts.spec.replicas);
  }
});

t.test('Dockerfile: multi-stage, production deps only, non-root, data volume, port 8080, ruok healthcheck, 0.0.0.0', async (t) => {
  const df = readFileSync(join(root, 'Dockerfile'), 'utf8');
  t.equal((df.match(/^FROM /gm) ?? []).length, 2, 'two stages');
  t.match(df, /^RUN npm ci --ignore-scripts$/m);
  t.match(df, /^RUN npx tsc -p tsconfig\.json$/m);
  t.match(df, /^RUN node dist\/bin\/bundle\.js$/m, 'bundles the command after compiling it');
  t.match(df, /^COPY --from=build \/src\/dist\/bundle \.\/dist\/bundle$/m, 'the image holds the bundle bin/zkgate runs');
  t.match(df, /npm ci --omit=dev/);
  t.match(df, /^USER node$/m);
  t.match(df, /^VOLUME \["\/data"\]$/m);
  t.match(df, /^EXPOSE 8080\b/m);
  t.match(df, /HEALTHCHECK[\s\S]*\/v1\/admin\/ruok/);
  t.match(df, /^EXPOSE 8080 2888 3888 7000$/m);
  t.match(df, /^CMD \["zkgate", "server", "--config", "\/conf\/zoo\.cfg", "--host", "0\.0\.0\.0"\]$/m);
  t.match(df, /ZKGATE_DATA_DIR=\/data/);
  t.match(df, /^ENTRYPOINT \["docker-entrypoint\.sh"\]$/m);
});

t.test('the Grafana dashboard queries only metrics a running server exposes', async (t) => {
  const dash = JSON.parse(readFileSync(join(root, 'deploy', 'grafana', 'zkgate.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const s = await startTestServer();
  t.teardown(() => s.destroy());
  // One write and one earlier scrape, so the histograms have series.
  await fetch(`${s.url}/v1/znodes/g`, { method: 'POST', body: 'x' });
  await (await fetch(`${s.url}/metrics`)).text();
  const text = await (await fetch(`${s.url}/metrics`)).text();
  // Series names, plus declared metrics that have no series on a standalone node (follower lag).
  const exposed = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]));
  for (const m of text.matchAll(/^# TYPE (\S+) gauge$/gm)) exposed.add(m[1] as string);
  const used = new Set<string>();
  for (const p of dash.panels) for (const q of p.targets) for (const m of q.expr.matchAll(/\b((?:zkgate|process|nodejs)_[a-z0-9_]+)\b/g)) used.add(m[1] as string);
  t.ok(used.size >= 15, `${used.size} metrics used`);
  for (const m of used) t.ok(exposed.has(m), `${m} is exposed`);
});

/** Runs a health check's `node -e` script with only `env` (plus PATH): its exit code. */
function healthCheck(script: string, env: Env): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 10_000 }, (err) =>
      resolve(err ? ((err as { code?: number }).code ?? 1) : 0),
    );
  });
}

t.test("the image's and compose's health checks pass on a node serving TLS, through its metrics port", async (t) => {
  const df = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const image = /^\s+CMD node -e "(.*)"$/m.exec(df.slice(df.indexOf('HEALTHCHECK')))?.[1];
  const compose = parse(readFileSync(join(root, 'deploy', 'docker-compose.yml'), 'utf8')) as {
    'x-zkgate': { healthcheck: { test: string[] } };
    'x-env': Env;
  };
  const composeTest = compose['x-zkgate'].healthcheck.test;
  t.same(composeTest.slice(0, 3), ['CMD', 'node', '-e']);
  if (image === undefined) throw new Error('no HEALTHCHECK CMD node -e "..." line in the Dockerfile');
  const pki = makePki();
  const metricsPort = await freePort();
  const s = await startTestServer({ ...serverTlsFiles(dir, pki, 'hc-'), metricsPort });
  t.teardown(() => s.destroy());
  const httpPort = String(s.port);
  for (const [name, script] of [['Dockerfile', image], ['docker-compose.yml', composeTest[3] as string]] as const) {
    t.equal(await healthCheck(script, { ZKGATE_HTTP_PORT: httpPort, ZKGATE_METRICS_PORT: String(metricsPort) }), 0, `${name}: healthy through the metrics port`);
    t.not(await healthCheck(script, { ZKGATE_HTTP_PORT: httpPort }), 0, `${name}: plain HTTP to the TLS port is unhealthy (why the metrics port exists)`);
  }
  t.equal(compose['x-env'].ZKGATE_METRICS_PORT, '7000', 'compose gives its nodes a metrics port');
  const g = generated('compose-metrics', { ...compose['x-env'], ZKGATE_ENSEMBLE_SECRET: 'c', ZKGATE_MYID: '1' });
  t.equal(g.cfg.metricsPort, 7000, 'and the entrypoint writes it into zoo.cfg');
  await s.destroy();
  t.not(await healthCheck(image, { ZKGATE_METRICS_PORT: String(metricsPort) }), 0, 'a stopped node is unhealthy');
});
