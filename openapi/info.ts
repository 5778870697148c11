// The OpenAPI document's header: what zkgate is and the choices API.md leaves open, stated once.
import { VERSION } from '../server/version.js';

export function openapiInfo() {
  return {
    openapi: '3.0.3',
    info: {
      title: 'zkgate',
      version: VERSION,
      description:
        "ZooKeeper's data model over HTTP. Znode `/a/b` is `/v1/znodes/a/b`. Every response carries `ZK-Zxid`; send `ZK-Min-Zxid` " +
        'to wait (bounded) for this node to reach a zxid, and `ZK-Session` to act in a session. Errors are `{error, code, message, path?}` ' +
        "with ZooKeeper's names and codes. Choices where ZooKeeper differs or API.md is silent: TTL nodes are always enabled; " +
        'a body larger than jute.maxbuffer is 413 BadArguments; a failed write still consumes a zxid (as ZooKeeper logs an error txn); ' +
        "a request carrying `Origin` (a browser's) from an origin other than the server's own and those in `corsAllowOrigins` is 403 NoAuth, " +
        'and listed origins get CORS headers; a malformed session id is 400 BadArguments.',
    },
    tags: [
      { name: 'znodes', description: 'getData, getChildren, exists, create, setData, delete, sync' },
      { name: 'multi', description: 'atomic multi-op and multiRead' },
      { name: 'acl', description: 'getACL / setACL' },
      { name: 'sessions', description: 'sessions own ephemeral nodes' },
      { name: 'admin', description: "four-letter words" },
      { name: 'watches', description: 'watches over WebSocket (GET /v1/watch upgrade), frame shapes' },
      { name: 'recipes', description: 'locks, elections and queues for curl users' },
    ],
  };
}
