// An etcd v3 cluster for the comparison: N `etcd` processes on loopback with their own data dirs and a static
// --initial-cluster, driven through etcd's HTTP/JSON gateway (POST /v3/kv/put and /v3/kv/range, base64 keys/values).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Request, RequestSpec } from 'autocannon';
import { freePort, memberPids, sleep, startChild, stopMembers, waitUntil, type Child, type TrackChild } from './procs.js';
import { CREATE_PARENT, HOT_NODES, HOT_PARENT, value } from './http-load.js';

export const ETCD_BIN = '/usr/bin/etcd';

export const ETCD_MISSING_HELP = [
  'etcd is not installed, so the etcd comparison was skipped. To include it (Debian/Ubuntu, as root):',
  "  printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d   # so no system service starts",
  '  apt-get update && apt-get install -y etcd-server etcd-client',
  `then run the bench again (it looks for ${ETCD_BIN}).`,
].join('\n');

export function etcdInstalled(): boolean {
  return existsSync(ETCD_BIN);
}

export interface EtcdMember {
  name: string;
  url: string;
  child?: Child;
}

export interface EtcdCluster {
  members: EtcdMember[];
  urls: string[];
  pids(): number[];
  /** Name of the member the cluster reports as leader. */
  leader(): Promise<string>;
  stop(): Promise<void>;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

async function post(url: string, path: string, body: unknown): Promise<unknown> {
  const r = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5000) });
  const text = await r.text();
  if (!r.ok) throw new Error(`etcd ${path}: ${r.status} ${text}`);
  return JSON.parse(text) as unknown;
}

export async function startEtcdCluster(root: string, size: number, track?: TrackChild): Promise<EtcdCluster> {
  const spec: { name: string; client: number; peer: number }[] = [];
  for (let i = 1; i <= size; i++) spec.push({ name: `e${i}`, client: await freePort(), peer: await freePort() });
  const token = `bench-${process.pid}-${Date.now().toString(36)}`;
  const initial = spec.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');
  const members: EtcdMember[] = spec.map((s) => ({ name: s.name, url: `http://127.0.0.1:${s.client}` }));
  const cluster: EtcdCluster = {
    members,
    urls: members.map((m) => m.url),
    pids: () => memberPids(members),
    async leader() {
      const st = (await post(members[0]!.url, '/v3/maintenance/status', {})) as { leader?: string };
      const list = (await post(members[0]!.url, '/v3/cluster/member/list', {})) as { members?: { ID?: string; name?: string }[] };
      return list.members?.find((m) => m.ID === st.leader)?.name ?? '?';
    },
    stop: () => stopMembers(members, track),
  };
  try {
    for (const [i, s] of spec.entries()) {
      const dir = join(root, `etcd-${s.name}`);
      mkdirSync(dir, { recursive: true });
      // etcd's defaults otherwise (heartbeat 100 ms, election 1000 ms, fsync on every WAL write).
      const c = startChild(`etcd-${s.name}`, ETCD_BIN, [
        '--name', s.name,
        '--data-dir', dir,
        '--listen-client-urls', `http://127.0.0.1:${s.client}`,
        '--advertise-client-urls', `http://127.0.0.1:${s.client}`,
        '--listen-peer-urls', `http://127.0.0.1:${s.peer}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${s.peer}`,
        '--initial-cluster', initial,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', token,
        '--logger', 'zap',
        '--log-level', 'warn',
      ]);
      members[i]!.child = c;
      track?.(c, true);
    }
    await Promise.all(
      members.map((m) =>
        waitUntil(m.child as Child, async () => {
          const r = await fetch(`${m.url}/health`, { signal: AbortSignal.timeout(2000) });
          return r.ok && /"true"/.test(await r.text());
        }, 60000, 100),
      ),
    );
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/** The hot keys (/bench/hot/n0..n999) with the value, written 16 at a time. */
export async function prepareEtcd(url: string, valueBytes: number): Promise<void> {
  const v = b64(value(valueBytes));
  for (let i = 0; i < HOT_NODES; i += 16) {
    const batch = [];
    for (let j = i; j < Math.min(HOT_NODES, i + 16); j++) batch.push(post(url, '/v3/kv/put', { key: b64(`${HOT_PARENT}/n${j}`), value: v }));
    await Promise.all(batch);
  }
  // A first range proves the gateway serves reads too.
  const got = (await post(url, '/v3/kv/range', { key: b64(`${HOT_PARENT}/n0`) })) as { kvs?: unknown[] };
  if (!got.kvs || got.kvs.length !== 1) throw new Error('etcd: the hot key written by the setup is not readable');
  await sleep(0);
}

export type EtcdPhase = 'create' | 'set' | 'get' | 'mix';

/**
 * autocannon requests for one phase. create = a put of a fresh key (etcd has no create-only put short of a
 * txn); reads are serializable ranges (served by the member itself), the consistency of a ZooKeeper or zkgate read.
 */
export function etcdRequestsFor(phase: EtcdPhase, valueBytes: number, tag: string): RequestSpec[] {
  const v = b64(value(valueBytes));
  const headers = { 'content-type': 'application/json' };
  const puts = Array.from({ length: HOT_NODES }, (_, i) => JSON.stringify({ key: b64(`${HOT_PARENT}/n${i}`), value: v }));
  const gets = Array.from({ length: HOT_NODES }, (_, i) => JSON.stringify({ key: b64(`${HOT_PARENT}/n${i}`), serializable: true }));
  const put = (body: string): Request => ({ method: 'POST', path: '/v3/kv/put', body, headers });
  const get = (body: string): Request => ({ method: 'POST', path: '/v3/kv/range', body, headers });
  let n = 0;
  const first = put(puts[0]!);
  switch (phase) {
    case 'create':
      return [{ ...first, setupRequest: () => put(JSON.stringify({ key: b64(`${CREATE_PARENT}/${tag}-${n++}`), value: v })) }];
    // Static lists, cycled through by autocannon without rebuilding, as zkgate's (bench/http-load.ts).
    case 'set':
      return puts.map(put);
    case 'get':
      return gets.map(get);
    case 'mix':
      return gets.map((g, i) => (i % 10 === 9 ? put(puts[(i * 7) % HOT_NODES]!) : get(g)));
  }
}
