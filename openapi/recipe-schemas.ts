// TypeBox schemas of the recipe endpoints (/v1/recipes/...): locks, elections and queues for HTTP-only clients.
import { Type } from '@sinclair/typebox';

const Name = Type.String({ description: 'the lock, election or queue name: one path segment', examples: ['jobs'] });
export const RecipeNameParams = Type.Object({ name: Name });

export const RecipeWaitQuery = Type.Object({
  wait: Type.Optional(
    Type.String({
      description: 'how long to wait (30s, 500ms, 2m or bare seconds), capped at recipeMaxWaitMs; lock and campaign default to the cap, poll to 0',
      examples: ['30s'],
    }),
  ),
});

export const SessionHeaders = Type.Object({
  'zk-session': Type.Optional(Type.String({ description: 'the session that owns the lock or candidacy (required)', examples: ['0x1a2b3c4d5e6f7081'] })),
  'zk-session-epoch': Type.Optional(Type.String({ description: 'as on znode writes: a request left behind on a server the client gave up on is refused rather than applied after its retry', examples: ['3'] })),
});

const Key = Type.String({ description: 'the ephemeral sequential node that holds the place', examples: ['/zkgate/locks/jobs/lock-0000000003'] });
const Zxid = Type.String({ description: "the key's czxid: grows with every acquisition, usable as a fencing token", examples: ['42'] });
const Position = Type.Integer({ description: 'place in line (0 = holder)', examples: [2] });

export const LockHeld = Type.Object(
  { name: Name, key: Key, held: Type.Literal(true), owner: Type.String({ examples: ['0x1a2b3c4d5e6f7081'] }), zxid: Zxid },
  { examples: [{ name: 'jobs', key: '/zkgate/locks/jobs/lock-0000000003', held: true, owner: '0x1a2b3c4d5e6f7081', zxid: '42' }] },
);
export const LockWaiting = Type.Object(
  { name: Name, key: Key, held: Type.Literal(false), position: Position },
  { examples: [{ name: 'jobs', key: '/zkgate/locks/jobs/lock-0000000004', held: false, position: 1 }] },
);
export const LockHolder = Type.Object(
  { name: Name, key: Key, owner: Type.String(), zxid: Zxid, waiting: Type.Integer({ description: 'nodes queued behind the holder' }) },
  { examples: [{ name: 'jobs', key: '/zkgate/locks/jobs/lock-0000000003', owner: '0x1a2b3c4d5e6f7081', zxid: '42', waiting: 1 }] },
);

const Value = Type.String({ description: "the candidate's value (its body), in `encoding`", examples: ['worker-1:8080'] });
const Enc = Type.Union([Type.Literal('utf8'), Type.Literal('base64')]);
export const CampaignWon = Type.Object(
  { name: Name, key: Key, leader: Type.Literal(true), value: Value, encoding: Enc, zxid: Zxid },
  { examples: [{ name: 'scheduler', key: '/zkgate/elections/scheduler/n_0000000000', leader: true, value: 'worker-1:8080', encoding: 'utf8', zxid: '17' }] },
);
export const CampaignWaiting = Type.Object(
  { name: Name, key: Key, leader: Type.Literal(false), position: Position },
  { examples: [{ name: 'scheduler', key: '/zkgate/elections/scheduler/n_0000000001', leader: false, position: 1 }] },
);
export const LeaderInfo = Type.Object(
  { name: Name, key: Key, value: Value, encoding: Enc, owner: Type.String(), zxid: Zxid },
  { examples: [{ name: 'scheduler', key: '/zkgate/elections/scheduler/n_0000000000', value: 'worker-1:8080', encoding: 'utf8', owner: '0x1a2b3c4d5e6f7081', zxid: '17' }] },
);

export const QueueOffered = Type.Object(
  { name: Name, key: Type.String({ examples: ['/zkgate/queues/jobs/qn-0000000007'] }) },
  { examples: [{ name: 'jobs', key: '/zkgate/queues/jobs/qn-0000000007' }] },
);
export const QueueItem = Type.Object(
  { name: Name, key: Type.String(), data: Type.String(), encoding: Enc },
  { examples: [{ name: 'jobs', key: '/zkgate/queues/jobs/qn-0000000007', data: 'resize image 7', encoding: 'utf8' }] },
);
export const QueueSize = Type.Object({ name: Name, size: Type.Integer() }, { examples: [{ name: 'jobs', size: 3 }] });
export const PollQuery = Type.Object({
  ...RecipeWaitQuery.properties,
  encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')], { description: 'force base64 for the data' })),
});

/**
 * A raw-bytes body, documented but not validated (any bytes, any Content-Type: the schema has no type on purpose,
 * so validation accepts the Buffer the route's parser produces).
 */
export const RawBody = (description: string, example: string) =>
  Type.Unsafe<Uint8Array>({ description: `${description}: raw bytes, any Content-Type`, examples: [example] });
export const RAW_CONSUMES = ['application/octet-stream', 'text/plain', '*/*'];
