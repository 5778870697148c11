// Stat as ZooKeeper reports it (DataNode.copyStat): the reported cversion, and the ephemeralOwner a client sees.
import type { NodeRecord, Stat } from './types.js';

/**
 * The owning session of an ephemeral, else 0x0. ZooKeeper stores containers and TTL nodes with marker owners
 * (0x8000000000000000, 0xFF00000000000000 | ttl) but its getClientEphemeralOwner reports 0 for both, as checked
 * against a running ZooKeeper 3.8.0: a client that reads "owner ≠ 0" as "ephemeral" must not take them for ones.
 */
function ownerOf(rec: NodeRecord): string {
  return rec.kind === 'ephemeral' ? rec.owner : '0x0';
}

export function statOf(rec: NodeRecord): Stat {
  return {
    czxid: String(rec.czxid),
    mzxid: String(rec.mzxid),
    pzxid: String(rec.pzxid),
    ctime: rec.ctime,
    mtime: rec.mtime,
    version: rec.version,
    // ZooKeeper stores child creates and reports creates + deletes = 2 × creates − numChildren, a Java int.
    cversion: (2 * rec.cversion - rec.numChildren) | 0,
    aversion: rec.aversion,
    ephemeralOwner: ownerOf(rec),
    dataLength: rec.data.length,
    numChildren: rec.numChildren,
  };
}
