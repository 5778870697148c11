// TypeBox schemas: the single source for request validation, response serialization and the OpenAPI spec.
import { Type, type Static } from '@sinclair/typebox';

export const StatSchema = Type.Object(
  {
    czxid: Type.String({ description: 'zxid of the create (decimal, 64-bit)', examples: ['5'] }),
    mzxid: Type.String({ description: 'zxid of the last setData', examples: ['7'] }),
    pzxid: Type.String({ description: 'zxid of the last child create or delete', examples: ['5'] }),
    ctime: Type.Number({ description: 'create time, epoch ms', examples: [1764169200000] }),
    mtime: Type.Number({ description: 'last setData time, epoch ms', examples: [1764169200000] }),
    version: Type.Integer({ description: 'setData count, a 32-bit integer as in ZooKeeper (after 2147483647 comes -2147483648)', examples: [1] }),
    cversion: Type.Integer({ description: 'child creates + child deletes (as ZooKeeper reports it)', examples: [0] }),
    aversion: Type.Integer({ description: 'setACL count, a 32-bit integer as version is', examples: [0] }),
    ephemeralOwner: Type.String({ description: 'owning session id for ephemerals, else "0x0" (containers and TTL nodes too, as ZooKeeper reports them)', examples: ['0x0'] }),
    dataLength: Type.Integer({ examples: [5] }),
    numChildren: Type.Integer({ examples: [0] }),
  },
  { $id: 'Stat', title: 'Stat' },
);
export type StatT = Static<typeof StatSchema>;

const StatRef = Type.Ref('Stat');

export const ErrorSchema = Type.Object(
  {
    error: Type.String({ description: "ZooKeeper's error name", examples: ['NoNode'] }),
    code: Type.Integer({ description: "ZooKeeper's error code", examples: [-101] }),
    message: Type.String({ examples: ['node does not exist'] }),
    path: Type.Optional(Type.String({ examples: ['/app/config'] })),
    applied: Type.Optional(Type.Boolean({ description: 'on 503: false when the write was certainly never proposed (safe to retry)' })),
    results: Type.Optional(Type.Array(Type.Unknown(), { description: 'per-op results of a failed multi' })),
    sessionEpoch: Type.Optional(Type.Integer({ description: 'on a 503 for a write whose ZK-Session-Epoch is below one a later request of its session carried: that epoch' })),
  },
  { $id: 'Error', title: 'Error' },
);

export const ErrorRef = Type.Ref('Error');

export const DataResponse = Type.Object({
  path: Type.String({ examples: ['/app/config'] }),
  data: Type.String({ description: 'the bytes, in `encoding`', examples: ['hello'] }),
  encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
  stat: StatRef,
});

export const ChildrenResponse = Type.Object({
  path: Type.String({ examples: ['/app'] }),
  children: Type.Array(Type.String(), { examples: [['config', 'workers']] }),
  stat: StatRef,
  more: Type.Optional(Type.Boolean({ description: 'paged listings (`limit`) only: whether children follow the last one listed (ask again with `after` set to it)' })),
});

export const PathStatResponse = Type.Object({
  path: Type.String({ examples: ['/app/config'] }),
  stat: StatRef,
});

/**
 * Query strings of the znode and ACL routes take only the parameters they name: a misspelt `?verison=3` or
 * `?ephemerel` would otherwise be dropped silently and turn a compare-and-set into a blind write.
 */
const STRICT = { additionalProperties: false } as const;

const Flag = (description: string) => Type.Optional(Type.String({ description: `${description} (present = on; "false" or "0" = off)` }));

export const ZnodeGetQuery = Type.Object({
  children: Flag('list children instead of data (getChildren2)'),
  limit: Type.Optional(
    Type.String({
      pattern: '^[0-9]+$',
      description:
        'with `children`: list a page of at most this many children (1–10000, and at most jute.maxbuffer bytes of names), answered with `more`. Pages are read one request at a time, not at one zxid',
      examples: ['1000'],
    }),
  ),
  after: Type.Optional(Type.String({ description: 'with `children` and `limit`: the page starts after this name (the last one of the previous page)', examples: ['worker-0000000999'] })),
  stat: Flag('only the stat (exists)'),
  encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')], { description: 'force base64 for the data' })),
  consistency: Type.Optional(Type.Union([Type.Literal('linearizable'), Type.Literal('sequential')])),
  wait: Type.Optional(Type.String({ description: 'blocking read: how long to wait for a change after `index` (e.g. 30s, 500ms)' })),
  index: Type.Optional(Type.String({ description: 'blocking read: the zxid the client last saw' })),
}, STRICT);

export const ZnodeCreateQuery = Type.Object({
  sequential: Flag('append a 10-digit sequence number'),
  ephemeral: Flag('delete with the session (needs ZK-Session)'),
  container: Flag('container node: removed once its last child goes'),
  ttl: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'TTL in ms: removed when unmodified that long and childless', examples: ['60000'] })),
  parents: Flag('create missing ancestors as empty persistent nodes'),
  acl: Type.Optional(
    Type.Array(Type.String({ examples: ['world:anyone:cdrwa'] }), { description: 'scheme:id:perms, repeatable (default world:anyone:cdrwa). Schemes: world, auth, digest, ip, and x509 (the subject DN of a client certificate, when the server has tlsClientCaFile)' }),
  ),
}, STRICT);

const ExpectedVersion = Type.Optional(Type.String({ pattern: '^-?[0-9]+$', description: 'expected version (-1 = any)', examples: ['3'] }));

/** PUT (setData, setACL): a compare-and-set version and nothing else, so a stray ?recursive is refused, not ignored. */
export const VersionQuery = Type.Object({ version: ExpectedVersion }, STRICT);

/** A route that takes no query parameter: any is 400 BadArguments naming it (app.ts), as on the other znode routes. */
export const NoQuery = Type.Object({}, STRICT);

export const DeleteQuery = Type.Object({
  version: ExpectedVersion,
  recursive: Flag('delete the whole subtree atomically'),
}, STRICT);

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'expected version, as the ETag ("3") or bare (3)' })),
  'zk-session': Type.Optional(Type.String({ description: 'session id (0x…)' })),
  'zk-session-epoch': Type.Optional(Type.String({ description: "where the client sends its session's requests from, raised when it moves to another server: a write below the epoch its session already used is refused (503, applied:false, sessionEpoch), so a request left behind on a server the client gave up on is never applied after its retry (ZooKeeper's session moved); the SDK sends it", examples: ['3'] })),
  'zk-min-zxid': Type.Optional(Type.String({ description: 'wait (bounded) until this node has applied this zxid' })),
});

export const ZnodeParams = Type.Object({ '*': Type.String() });

export const AclEntry = Type.Object({
  scheme: Type.String({ examples: ['world'] }),
  id: Type.String({ examples: ['anyone'] }),
  // Checked by the route, not here: a letter outside cdrwa is ZooKeeper's InvalidACL (-114) wherever the ACL travels
  // (this body, a multi's create, ?acl=), not a schema's BadArguments.
  perms: Type.String({ description: 'a subset of cdrwa; any other letter is 400 InvalidACL', examples: ['cdrwa'] }),
});

export const AclResponse = Type.Object({ acl: Type.Array(AclEntry), stat: StatRef });
export const AclBody = Type.Object(
  { acl: Type.Array(AclEntry, { maxItems: 1000 }) },
  { examples: [{ acl: [{ scheme: 'digest', id: 'bob:DRT3ZLaEIlF0BwKbR1gwtb6YsNM=', perms: 'cdrwa' }, { scheme: 'world', id: 'anyone', perms: 'r' }] }] },
);

export const MultiOpSchema = Type.Object({
  op: Type.Union([Type.Literal('create'), Type.Literal('set'), Type.Literal('delete'), Type.Literal('check'), Type.Literal('get'), Type.Literal('children')]),
  path: Type.String(),
  data: Type.Optional(Type.String()),
  encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
  version: Type.Optional(Type.Integer({ minimum: -2147483648, maximum: 2147483647, description: 'expected version (-1 = any)' })),
  mode: Type.Optional(Type.String({ examples: ['PERSISTENT', 'EPHEMERAL_SEQUENTIAL'] })),
  ttl: Type.Optional(Type.Integer()),
  acl: Type.Optional(Type.Array(Type.Union([Type.String(), AclEntry]))),
});

export const MultiBody = Type.Object(
  { ops: Type.Array(MultiOpSchema, { maxItems: 10000, description: 'an empty list is answered `{results: []}` without a transaction, as ZooKeeper\'s client answers an empty multi' }) },
  {
    examples: [
      {
        ops: [
          { op: 'check', path: '/app', version: 0 },
          { op: 'create', path: '/app/lock-', mode: 'EPHEMERAL_SEQUENTIAL', data: 'me' },
          { op: 'set', path: '/app/config', data: 'v2', version: -1 },
        ],
      },
    ],
  },
);
export const MultiResponse = Type.Object({ results: Type.Array(Type.Unknown()) });

export const SessionCreateBody = Type.Optional(
  Type.Object({ timeoutMs: Type.Optional(Type.Integer({ description: 'asked-for timeout, negotiated into [minSessionTimeout, maxSessionTimeout] (any integer: 0 or less gives the minimum, as in ZooKeeper)', examples: [30000] })) }, { examples: [{ timeoutMs: 30000 }] }),
);
export const SessionResponse = Type.Object({ sessionId: Type.String({ examples: ['0x1a2b3c4d5e6f7081'] }), timeoutMs: Type.Integer({ examples: [30000] }) });
export const SessionInfoResponse = Type.Object({
  sessionId: Type.String(),
  timeoutMs: Type.Integer(),
  ephemerals: Type.Array(Type.String(), { examples: [['/election/n_0000000003']], description: 'in path order (UTF-8 bytes), at most jute.maxbuffer bytes of paths (4 + the UTF-8 bytes of each)' }),
  ephemeralsTruncated: Type.Optional(Type.Literal(true, { description: 'the session has more ephemerals than `ephemerals` lists' })),
});
export const SessionParams = Type.Object({
  id: Type.String({
    description: 'The session id: `0x` and 1–16 hex digits, any case, leading zeros allowed (they name the same session). Anything else is 400 BadArguments.',
    examples: ['0x194274f601833'],
  }),
});

export const SyncResponse = Type.Object({ zxid: Type.String({ examples: ['42'] }) });
