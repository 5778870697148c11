// TypeBox schemas of the /v1/watch WebSocket frames (API.md §5): they validate what clients send and document
// every frame shape in the OpenAPI spec (components/schemas).
import { Type, type Static } from '@sinclair/typebox';

const FrameId = Type.Optional(
  Type.Union([Type.String({ maxLength: 256 }), Type.Integer()], { description: 'chosen by the client; echoed in the reply', examples: [1] }),
);
const Kind = Type.Union(
  [Type.Literal('data'), Type.Literal('exists'), Type.Literal('children'), Type.Literal('persistent'), Type.Literal('persistentRecursive')],
  {
    description:
      'data, exists, children: one-shot (removed when they fire), as getData/exists/getChildren watches; persistent, ' +
      'persistentRecursive: as addWatch modes (persistentRecursive covers the subtree and never gets NodeChildrenChanged)',
  },
);
const Zxid = Type.String({ pattern: '^[0-9]+$', description: 'zxid, decimal', examples: ['42'] });

export const WatchRequest = Type.Object(
  {
    id: FrameId,
    op: Type.Literal('watch'),
    path: Type.String({ examples: ['/app/config'] }),
    kind: Kind,
    sinceZxid: Type.Optional(
      Type.Union([Zxid, Type.Integer({ minimum: 0 })], {
        description:
          'the last zxid the client saw: a change after it fires at once (one-shot kinds), or is replayed before the reply ' +
          '(persistent kinds; a `resync` frame when the server no longer has the history, or the missed events are older ' +
          'than events this connection already received)',
      }),
    ),
    encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')], { description: 'force base64 for the data in the reply' })),
  },
  { $id: 'WatchRequest', title: 'WatchRequest', additionalProperties: false },
);

export const ResumeRequest = Type.Object(
  {
    id: FrameId,
    op: Type.Literal('resume'),
    sinceZxid: Type.Union([Zxid, Type.Integer({ minimum: 0 })], { description: 'the last zxid the client saw before it reconnected' }),
    watches: Type.Array(
      Type.Object(
        {
          path: Type.String({ examples: ['/app/config'] }),
          kind: Kind,
          encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10000, description: 'at most wsMaxWatchesPerConnection take effect; each gets its own result' },
    ),
    more: Type.Optional(
      Type.Boolean({
        description:
          'true: more resume frames of this batch follow. The server holds these watches unarmed and answers at once ' +
          '{id, ok:true, held:<watches held so far>} (no zxid, no results); the next frame without more (or more:false) ' +
          'resumes all held watches and its own as one, as if they had been in that one frame, and its reply has the ' +
          'results of all of them in the order sent. Every frame of a batch has the same sinceZxid. A held frame past ' +
          'wsMaxWatchesPerConnection watches or wsMaxResumeBytes bytes, or with another sinceZxid, is refused with ' +
          'BadArguments and not held; what was held stays. A completing frame whose reply would pass wsMaxReplyBytes ' +
          'is refused with BadArguments, and nothing of the batch is armed or held. Other frames between them are ' +
          'handled as usual',
      }),
    ),
  },
  {
    $id: 'ResumeRequest',
    title: 'ResumeRequest',
    additionalProperties: false,
    description:
      'arms many watches from one zxid at once, as ZooKeeper\'s SetWatches does after a reconnect: what they missed is sent ' +
      'in zxid order, each event once, then one reply {id, ok:true, zxid, results:[one WatchReply or WatchErrorReply, without id, ' +
      'per watch, in order]}. Sent as separate watch frames instead, the first one\'s replay can take the connection past ' +
      'what a later one missed, which then only gets a resync; so can separate resume frames, unless all but the last ' +
      'say more:true',
  },
);

export const UnwatchRequest = Type.Object(
  { id: FrameId, op: Type.Literal('unwatch'), path: Type.String(), kind: Kind },
  { $id: 'UnwatchRequest', title: 'UnwatchRequest', additionalProperties: false },
);

export const SessionRequest = Type.Object(
  { id: FrameId, op: Type.Literal('session'), sessionId: Type.String({ maxLength: 64, examples: ['0x1a2b3c4d5e6f7081'] }) },
  {
    $id: 'SessionRequest',
    title: 'SessionRequest',
    additionalProperties: false,
    description: 'binds the connection to a session: it keeps the session alive while it answers pings, and gets its session event',
  },
);

export const PingRequest = Type.Object(
  { id: FrameId, op: Type.Literal('ping') },
  { $id: 'PingRequest', title: 'PingRequest', additionalProperties: false },
);

export const WatchReply = Type.Object(
  {
    id: Type.Union([Type.String(), Type.Integer(), Type.Null()]),
    ok: Type.Literal(true),
    zxid: Type.Optional(Type.String({ description: 'watch: the zxid the state was read at and the watch armed at; ping: the node\'s applied zxid' })),
    stat: Type.Optional(Type.Union([Type.Ref('Stat'), Type.Null()], { description: 'watch: null when the node does not exist' })),
    data: Type.Optional(Type.String({ description: 'data, exists (node present), persistent kinds' })),
    encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
    children: Type.Optional(Type.Array(Type.String(), { description: 'children and persistent kinds' })),
    sessionId: Type.Optional(Type.String({ description: 'session: the bound session' })),
    timeoutMs: Type.Optional(Type.Integer({ description: 'session: its timeout; the server pings every third of it' })),
    results: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }), { description: 'resume: one watch reply or error per watch, in order' })),
    held: Type.Optional(Type.Integer({ description: 'resume with more:true: the watches held for the batch so far, not yet armed' })),
  },
  { $id: 'WatchReply', title: 'WatchReply' },
);

export const WatchErrorReply = Type.Object(
  {
    id: Type.Union([Type.String(), Type.Integer(), Type.Null()], { description: 'null when the frame could not be read' }),
    ok: Type.Literal(false),
    error: Type.String({ examples: ['NoNode', 'NoAuth', 'BadArguments', 'MarshallingError', 'Unimplemented', 'SessionExpired', 'NoWatcher'] }),
    code: Type.Integer({ examples: [-101] }),
    message: Type.String(),
    path: Type.Optional(Type.String()),
  },
  { $id: 'WatchErrorReply', title: 'WatchErrorReply' },
);

export const WatchEvent = Type.Object(
  {
    type: Type.Literal('event'),
    event: Type.Union([Type.Literal('NodeCreated'), Type.Literal('NodeDeleted'), Type.Literal('NodeDataChanged'), Type.Literal('NodeChildrenChanged')]),
    path: Type.String({ description: 'the node that changed (below the watched path for persistentRecursive)' }),
    zxid: Type.String({
      description:
        'the zxid of the transaction that caused it; for a one-shot watch resumed with sinceZxid whose change is older than ' +
        'events the connection already received, the newest of those (the change had happened by then)',
    }),
  },
  { $id: 'WatchEvent', title: 'WatchEvent' },
);

export const SessionEvent = Type.Object(
  { type: Type.Literal('session'), state: Type.Union([Type.Literal('expired'), Type.Literal('closed')]) },
  { $id: 'SessionEvent', title: 'SessionEvent', description: 'the bound session ended; the server then closes the connection (1000)' },
);

export const ResyncEvent = Type.Object(
  { type: Type.Literal('resync'), path: Type.String() },
  {
    $id: 'ResyncEvent',
    title: 'ResyncEvent',
    description:
      'a persistent watch resumed with sinceZxid may have missed events the server no longer remembers, or cannot send in zxid ' +
      'order after events this connection already received: re-read the node (subtree)',
  },
);

export const WATCH_FRAME_SCHEMAS = [WatchRequest, ResumeRequest, UnwatchRequest, SessionRequest, PingRequest, WatchReply, WatchErrorReply, WatchEvent, SessionEvent, ResyncEvent];

export type WatchRequestT = Static<typeof WatchRequest>;
export type UnwatchRequestT = Static<typeof UnwatchRequest>;
export type SessionRequestT = Static<typeof SessionRequest>;
