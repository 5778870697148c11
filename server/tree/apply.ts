// apply(view, txn, zxid) → result + watch triggers: the deterministic state machine every replica runs.
// It reads nothing but the view and the transaction (no clock, no randomness, no node-local state), and
// checks state-dependent preconditions in ZooKeeper's order (PrepRequestProcessor), so a transaction
// prepared while others were in flight still applies identically everywhere.
import { ZkError, ZK_CODES } from '../errors.js';
import { OverlayView, type TreeView } from '../../storage/view.js';
import { requirePerm } from './acl.js';
import { joinPath, parentOf, RESERVED_PATHS, sequenceSuffix, validatePath } from './paths.js';
import { statOf } from './stat.js';
import { admitInRecord } from '../session-epochs.js';
import {
  PERM_BITS,
  modeIsSequential,
  modeKind,
  type ApplyResult,
  type CheckOp,
  type CreateOp,
  type DeleteOp,
  type MultiErrorResult,
  type MultiOp,
  type MultiResult,
  type NodeRecord,
  type SetOp,
  type Trigger,
  type Txn,
  type TxnContext,
  type TxnValue,
} from './types.js';

/** Bound on the nodes one recursive delete may remove in a single transaction. */
export const MAX_RECURSIVE_DELETE_NODES = 100_000;

interface Step {
  v: TreeView;
  zxid: number;
  triggers: Trigger[];
}

function mustGet(v: TreeView, path: string): NodeRecord {
  const n = v.getNode(path);
  if (!n) throw new ZkError('NoNode', undefined, { path });
  return n;
}

function newNode(zxid: number, time: number, data: Uint8Array, op: CreateOp, owner: string): NodeRecord {
  const kind = modeKind(op.mode);
  return {
    data,
    czxid: zxid,
    mzxid: zxid,
    pzxid: zxid,
    ctime: time,
    mtime: time,
    version: 0,
    cversion: 0,
    aversion: 0,
    owner: kind === 'ephemeral' ? owner : '',
    kind,
    ttlMs: kind === 'ttl' ? op.ttlMs : 0,
    numChildren: 0,
    acl: op.acl,
  };
}

/** Inserts `rec` at `path` under an existing `parent`, updating the parent's counters and the indexes. */
function insert(s: Step, path: string, parentPath: string, parent: NodeRecord, rec: NodeRecord): void {
  s.v.putNode(path, rec);
  s.v.putNode(parentPath, { ...parent, cversion: parent.cversion + 1, pzxid: s.zxid, numChildren: parent.numChildren + 1 });
  if (rec.kind === 'ephemeral') {
    s.v.addEphemeral(rec.owner, path);
    s.v.bump('ephemerals', 1);
  }
  if (rec.kind === 'container' || rec.kind === 'ttl') s.v.setSpecial(path, rec.kind);
  s.v.bump('znodes', 1);
  s.v.bump('dataBytes', rec.data.length);
  s.triggers.push({ type: 'NodeCreated', path, acl: rec.acl }, { type: 'NodeChildrenChanged', path: parentPath, acl: parent.acl });
}

/** Removes a childless node; the caller has done the permission and version checks. */
function remove(s: Step, path: string, rec: NodeRecord): void {
  const parentPath = parentOf(path);
  const parent = mustGet(s.v, parentPath);
  s.v.removeNode(path);
  s.v.putNode(parentPath, { ...parent, pzxid: s.zxid, numChildren: parent.numChildren - 1 });
  if (rec.kind === 'ephemeral') {
    s.v.removeEphemeral(rec.owner, path);
    s.v.bump('ephemerals', -1);
  }
  if (rec.kind === 'container' || rec.kind === 'ttl') s.v.setSpecial(path, null);
  s.v.bump('znodes', -1);
  s.v.bump('dataBytes', -rec.data.length);
  s.triggers.push({ type: 'NodeDeleted', path, acl: rec.acl }, { type: 'NodeChildrenChanged', path: parentPath, acl: parent.acl });
}

function checkVersion(expected: number, actual: number, path: string): void {
  if (expected !== -1 && expected !== actual) throw new ZkError('BadVersion', `expected version ${expected}, node has ${actual}`, { path });
}

function applyCreate(s: Step, op: CreateOp, ctx: TxnContext): TxnValue {
  const kind = modeKind(op.mode);
  if (kind === 'ephemeral') {
    if (!ctx.session) throw new ZkError('BadArguments', 'ephemeral nodes need a session (ZK-Session header)', { path: op.path });
    if (!s.v.getSession(ctx.session)) throw new ZkError('SessionExpired', undefined, { path: op.path });
  }
  const parentPath = parentOf(op.path);
  let parent = s.v.getNode(parentPath);
  if (!parent && op.parents) parent = createAncestors(s, parentPath, op, ctx);
  if (!parent) throw new ZkError('NoNode', `parent ${parentPath} does not exist`, { path: parentPath });
  requirePerm(parent.acl, PERM_BITS.c, ctx.auth, parentPath);
  let path = op.path;
  if (modeIsSequential(op.mode)) {
    path = op.path + sequenceSuffix(parent.cversion);
    validatePath(path);
  }
  if (s.v.getNode(path)) throw new ZkError('NodeExists', undefined, { path });
  if (parent.kind === 'ephemeral') throw new ZkError('NoChildrenForEphemerals', undefined, { path: parentPath });
  const rec = newNode(s.zxid, ctx.time, op.data, op, ctx.session);
  insert(s, path, parentPath, parent, rec);
  return { kind: 'create', path, stat: statOf(rec) };
}

/** `?parents`: creates each missing ancestor as an empty persistent node, top-down, with the same checks. */
function createAncestors(s: Step, missing: string, op: CreateOp, ctx: TxnContext): NodeRecord {
  const chain: string[] = [];
  let p = missing;
  while (!s.v.getNode(p)) {
    chain.push(p);
    p = parentOf(p);
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    const path = chain[i] as string;
    const parentPath = parentOf(path);
    const parent = mustGet(s.v, parentPath);
    requirePerm(parent.acl, PERM_BITS.c, ctx.auth, parentPath);
    if (parent.kind === 'ephemeral') throw new ZkError('NoChildrenForEphemerals', undefined, { path: parentPath });
    const rec = newNode(s.zxid, ctx.time, new Uint8Array(0), { ...op, mode: 'PERSISTENT', ttlMs: 0 }, '');
    insert(s, path, parentPath, parent, rec);
  }
  return mustGet(s.v, missing);
}

function applySet(s: Step, op: SetOp, ctx: TxnContext): TxnValue {
  const node = mustGet(s.v, op.path);
  requirePerm(node.acl, PERM_BITS.w, ctx.auth, op.path);
  checkVersion(op.version, node.version, op.path);
  // Versions are Java ints in ZooKeeper: past 2147483647 the next is -2147483648, which a client can still name.
  const rec: NodeRecord = { ...node, data: op.data, version: (node.version + 1) | 0, mzxid: s.zxid, mtime: ctx.time };
  s.v.putNode(op.path, rec);
  s.v.bump('dataBytes', op.data.length - node.data.length);
  s.triggers.push({ type: 'NodeDataChanged', path: op.path, acl: node.acl });
  return { kind: 'stat', stat: statOf(rec) };
}

function applyDelete(s: Step, op: DeleteOp, ctx: TxnContext): TxnValue {
  if (RESERVED_PATHS.has(op.path)) throw new ZkError('BadArguments', `${op.path} cannot be deleted`, { path: op.path });
  const parentPath = parentOf(op.path);
  const parent = mustGet(s.v, parentPath);
  // Before the node's own lookup, as PrepRequestProcessor checks (and a running ZooKeeper 3.8.0 answers): a caller
  // who may not delete there learns nothing of which children exist.
  requirePerm(parent.acl, PERM_BITS.d, ctx.auth, parentPath);
  const node = mustGet(s.v, op.path);
  checkVersion(op.version, node.version, op.path);
  if (node.numChildren > 0) {
    if (!op.recursive) throw new ZkError('NotEmpty', undefined, { path: op.path });
    deleteDescendants(s, op.path, ctx);
  }
  remove(s, op.path, mustGet(s.v, op.path));
  return { kind: 'none' };
}

/** Deletes everything below `root`, deepest first, checking DELETE on each node's parent as ZooKeeper would. */
function deleteDescendants(s: Step, root: string, ctx: TxnContext): void {
  const order: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop() as string;
    for (const name of s.v.childNames(p)) {
      const child = joinPath(p, name);
      order.push(child);
      if (order.length > MAX_RECURSIVE_DELETE_NODES) {
        throw new ZkError('BadArguments', `subtree has more than ${MAX_RECURSIVE_DELETE_NODES} nodes; delete it in parts`, { path: root });
      }
      stack.push(child);
    }
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const path = order[i] as string;
    const parentPath = parentOf(path);
    requirePerm(mustGet(s.v, parentPath).acl, PERM_BITS.d, ctx.auth, parentPath);
    remove(s, path, mustGet(s.v, path));
  }
}

function applyCheck(s: Step, op: CheckOp, ctx: TxnContext): TxnValue {
  const node = mustGet(s.v, op.path);
  requirePerm(node.acl, PERM_BITS.r, ctx.auth, op.path);
  checkVersion(op.version, node.version, op.path);
  return { kind: 'none' };
}

function applyOp(s: Step, op: MultiOp, ctx: TxnContext): TxnValue {
  switch (op.type) {
    case 'create':
      return applyCreate(s, op, ctx);
    case 'set':
      return applySet(s, op, ctx);
    case 'delete':
      return applyDelete(s, op, ctx);
    case 'check':
      return applyCheck(s, op, ctx);
  }
}

function multiResult(op: MultiOp, value: TxnValue): MultiResult {
  if (op.type === 'create' && value.kind === 'create') return { op: 'create', path: value.path, stat: value.stat };
  if (op.type === 'set' && value.kind === 'stat') return { op: 'set', stat: value.stat };
  return { op: op.type === 'create' || op.type === 'set' ? 'check' : op.type };
}

/** ZooKeeper's per-op results of a failed multi: Ok before the failure, its error, RuntimeInconsistency after. */
export function multiFailureResults(count: number, failedAt: number, err: ZkError): MultiErrorResult[] {
  const out: MultiErrorResult[] = [];
  for (let j = 0; j < count; j++) {
    if (j < failedAt) out.push({ error: 'Ok', code: 0 });
    else if (j === failedAt) out.push({ error: err.zkName, code: err.code });
    else out.push({ error: 'RuntimeInconsistency', code: ZK_CODES.RuntimeInconsistency });
  }
  return out;
}

function closeSession(s: Step, sessionId: string): TxnValue {
  if (!s.v.getSession(sessionId)) throw new ZkError('SessionExpired');
  for (const path of s.v.sessionEphemerals(sessionId)) {
    const rec = s.v.getNode(path);
    if (rec) remove(s, path, rec);
  }
  s.v.removeSession(sessionId);
  return { kind: 'none' };
}

/** The sweeper's delete of an empty container or an expired TTL node; harmless NotEmpty if it is in use again. */
function reap(s: Step, path: string, time: number, maxNeverUsedMs: number): TxnValue {
  const node = mustGet(s.v, path);
  if (node.numChildren > 0) throw new ZkError('NotEmpty', undefined, { path });
  const due =
    node.kind === 'container'
      ? node.cversion > 0 || (maxNeverUsedMs > 0 && time - node.mtime > maxNeverUsedMs)
      : node.kind === 'ttl' && time - node.mtime > node.ttlMs;
  if (!due) throw new ZkError('BadVersion', 'node is not due for removal', { path });
  remove(s, path, node);
  return { kind: 'none' };
}

/**
 * Applies one transaction at `zxid`. Writes reach `view` only if the whole transaction succeeds.
 */
export function applyTxn(view: TreeView, txn: Txn, zxid: number): ApplyResult {
  const overlay = new OverlayView(view);
  const s: Step = { v: overlay, zxid, triggers: [] };
  try {
    let value: TxnValue;
    let endedSessions: ApplyResult['endedSessions'];
    if ('sessionEpoch' in txn && txn.sessionEpoch !== undefined) admitInRecord(s.v, txn.session, txn.sessionEpoch);
    switch (txn.type) {
      case 'create':
      case 'set':
      case 'delete':
        value = applyOp(s, txn, txn);
        break;
      case 'setAcl': {
        const node = mustGet(s.v, txn.path);
        requirePerm(node.acl, PERM_BITS.a, txn.auth, txn.path);
        checkVersion(txn.aversion, node.aversion, txn.path);
        const rec = { ...node, acl: txn.acl, aversion: (node.aversion + 1) | 0 };
        s.v.putNode(txn.path, rec);
        value = { kind: 'stat', stat: statOf(rec) };
        break;
      }
      case 'multi': {
        const results: MultiResult[] = [];
        const count = txn.invalid?.count ?? txn.ops.length;
        // With `invalid`, the last op is only its stand-in (prepare.ts), for members that do not know `invalid`.
        const valid = txn.invalid ? txn.ops.length - 1 : txn.ops.length;
        for (let i = 0; i < valid; i++) {
          const op = txn.ops[i] as MultiOp;
          try {
            results.push(multiResult(op, applyOp(s, op, txn)));
          } catch (e) {
            if (!(e instanceof ZkError)) throw e;
            return { outcome: { ok: false, error: e, results: multiFailureResults(count, i, e) }, triggers: [] };
          }
        }
        if (txn.invalid) {
          const { error, message, path } = txn.invalid;
          const e = new ZkError(error, message, { path });
          return { outcome: { ok: false, error: e, results: multiFailureResults(count, valid, e) }, triggers: [] };
        }
        value = { kind: 'multi', results };
        break;
      }
      case 'createSession':
        if (s.v.getSession(txn.sessionId)) throw new ZkError('BadArguments', 'session id collision');
        s.v.putSession({ id: txn.sessionId, timeoutMs: txn.timeoutMs, createdZxid: zxid });
        value = { kind: 'session', sessionId: txn.sessionId, timeoutMs: txn.timeoutMs };
        break;
      case 'closeSession':
        value = closeSession(s, txn.sessionId);
        endedSessions = [{ id: txn.sessionId, reason: txn.reason }];
        break;
      case 'reap':
        value = reap(s, txn.path, txn.time, txn.maxNeverUsedMs);
        break;
    }
    overlay.commit();
    return { outcome: { ok: true, value }, triggers: s.triggers, endedSessions };
  } catch (e) {
    if (e instanceof ZkError) return { outcome: { ok: false, error: e }, triggers: [] };
    throw e;
  }
}
