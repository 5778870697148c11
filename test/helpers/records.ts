// A znode record as tests write it straight into a Store: open ACL, every counter at `zxid` or 0.
import type { NodeKind, NodeRecord } from '../../storage/records.js';
import { OPEN_ACL_UNSAFE } from '../../server/tree/acl.js';

export function nodeRecord(data: string, kind: NodeKind = 'persistent', zxid = 0): NodeRecord {
  return {
    data: Buffer.from(data),
    czxid: zxid,
    mzxid: zxid,
    pzxid: zxid,
    ctime: 0,
    mtime: 0,
    version: 0,
    cversion: 0,
    aversion: 0,
    owner: '',
    kind,
    ttlMs: kind === 'ttl' ? 60000 : 0,
    numChildren: 0,
    acl: OPEN_ACL_UNSAFE,
  };
}
