// Stat as ZooKeeper reports it (DataNode.copyStat): the reported cversion and the ephemeralOwner encodings.
import type { NodeRecord, Stat } from './types.js';

/** EphemeralType.CONTAINER_EPHEMERAL_OWNER */
const CONTAINER_OWNER = '0x8000000000000000';

function ownerOf(rec: NodeRecord): string {
  switch (rec.kind) {
    case 'ephemeral':
      return rec.owner;
    case 'container':
      return CONTAINER_OWNER;
    case 'ttl':
      // 0xFF00000000000000 | ttl, as EphemeralType.TTL encodes it
      return '0xff' + rec.ttlMs.toString(16).padStart(14, '0');
    case 'persistent':
      return '0x0';
  }
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
