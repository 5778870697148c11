// A standalone Apache ZooKeeper 3.8 for the comparison (ZOOKEEPER.md §14): found on the Debian classpath,
// configured in a temp dir on a free port, started as a child JVM, ready once `srvr` reports a Mode.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, startChild, waitUntil, type Child } from './procs.js';

export const ZK_JAR = '/usr/share/java/zookeeper.jar';
const CLASSPATH = [ZK_JAR, '/usr/share/java/zookeeper-jute.jar', '/usr/share/java/slf4j-api.jar', '/usr/share/java/slf4j-simple.jar',
  '/usr/share/java/netty-handler.jar', '/usr/share/java/netty-transport.jar', '/usr/share/java/netty-common.jar',
  '/usr/share/java/netty-buffer.jar', '/usr/share/java/netty-resolver.jar', '/usr/share/java/netty-codec.jar',
  '/usr/share/java/netty-transport-native-epoll.jar', '/usr/share/java/netty-transport-native-unix-common.jar'];

export const ZK_MISSING_HELP = [
  'ZooKeeper is not installed, so the ZooKeeper comparison was skipped. To include it (Debian/Ubuntu, as root):',
  "  printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d   # so no system service starts",
  '  apt-get update && apt-get install -y zookeeper',
  `then run the bench again (it looks for ${ZK_JAR}).`,
].join('\n');

export function zookeeperInstalled(): boolean {
  return existsSync(ZK_JAR) && existsSync('/usr/bin/java');
}

export function zkClasspath(): string {
  return CLASSPATH.filter((p) => existsSync(p)).join(':');
}

/** Sends a four-letter word and returns the whole answer. */
export function fourLetter(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('connect', () => s.write(word));
    s.on('data', (d) => (out += d.toString('utf8')));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(2000, () => s.destroy(new Error('4lw timeout')));
  });
}

export interface ZkServer {
  child: Child;
  port: number;
  connect: string;
}

export async function startZookeeper(dir: string): Promise<ZkServer> {
  const port = await freePort();
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [
      'tickTime=2000',
      `dataDir=${dataDir}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      // Its AdminServer would take :8080; 60 connections per IP is below a 64-client benchmark.
      'admin.enableServer=false',
      'maxClientCnxns=0',
      '4lw.commands.whitelist=*',
      'autopurge.snapRetainCount=3',
      'autopurge.purgeInterval=0',
      '',
    ].join('\n'),
  );
  const child = startChild('zookeeper', '/usr/bin/java', [
    '-Xmx512m',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp',
    zkClasspath(),
    'org.apache.zookeeper.server.ZooKeeperServerMain',
    cfg,
  ]);
  // Its 4lw port answers before the server serves: wait for srvr to report a Mode.
  await waitUntil(child, async () => /Mode:/.test(await fourLetter(port, 'srvr')), 120000, 100);
  return { child, port, connect: `127.0.0.1:${port}` };
}

/** ZooKeeper's own fsync counters (mntr's zk_cnt_fsynctime and zk_sum_fsynctime, ms), for commits per phase. */
export async function zkFsyncCounters(port: number): Promise<{ count: number; sumMs: number }> {
  const text = await fourLetter(port, 'mntr');
  const get = (k: string) => Number(new RegExp(`^${k}\\s+(\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { count: get('zk_cnt_fsynctime'), sumMs: get('zk_sum_fsynctime') };
}
