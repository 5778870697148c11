// The audit log (zoo.cfg audit.enable=true), as ZooKeeper 3.6+'s: one JSON line per state-changing request with who
// asked (session, authenticated ids, client address), what (operation, znode, its type or the new ACL) and whether it
// succeeded, written by the node that took the request, to its own file (auditLogFile) apart from the server log.
// Operations and field names are ZooKeeper's (AuditConstants, AuditEvent), so existing tooling reads them.
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from './config-values.js';
import type { Acl, AuthId } from '../storage/records.js';
import type { MultiOp, TxnValue } from './tree/types.js';
import { permsToString } from './tree/acl.js';
import { makeDir } from '../storage/make-dir.js';

/** Ephemeral paths named in one session-close entry; past it the entry gives the count of the rest. */
const MAX_PATHS_PER_ENTRY = 100;

export type AuditResult = 'success' | 'failure';

interface Who {
  auth: AuthId[];
  session: string;
}

function who(req: Who): { session: string; user: string; ip: string } {
  return {
    session: req.session || '0',
    // As ZooKeeper's getUsersForAudit: each provider's user name (a digest id's user part, the address, the DN).
    user: req.auth.map((a) => (a.scheme === 'digest' ? (a.id.split(':')[0] ?? a.id) : a.id)).join(','),
    ip: req.auth.find((a) => a.scheme === 'ip')?.id ?? '',
  };
}

const aclString = (acl: Acl[]) => acl.map((a) => `${a.scheme}:${a.id}:${permsToString(a.perms)}`).join(',');

/** Bytes of entries waiting for the disk; past it entries are dropped and counted (`lost`), never held without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export class AuditLog {
  private readonly out: WriteStream;
  /** Entries the file did not take (its writer broken, or too far behind). */
  lost = 0;

  /** Opens (appends to) `file` now, so that a path that cannot be written is an error at start naming the key. */
  constructor(file: string, onError: (e: Error) => void) {
    let fd: number;
    try {
      makeDir(dirname(file));
      fd = openSync(file, 'a');
    } catch (e) {
      throw new ConfigError('auditLogFile', `auditLogFile: cannot write ${file}: ${(e as Error).message}`);
    }
    this.out = createWriteStream('', { fd });
    // A disk that fills up or fails later is reported, never a crash.
    this.out.on('error', (e) => {
      this.lost++;
      onError(e);
    });
  }

  /**
   * The event's fields and its time, nothing else (no level, pid or host: every line is an audit event). Never
   * throws: the change it records is already committed, and its client must hear so whatever the log file does.
   */
  private entry(fields: Record<string, string>): void {
    if (this.out.destroyed || this.out.writableEnded || this.out.writableLength > MAX_BUFFERED_BYTES) {
      this.lost++;
      return;
    }
    this.out.write(JSON.stringify({ time: new Date().toISOString(), ...fields }) + '\n');
  }

  serverStart(): void {
    this.entry({ operation: 'serverStart', result: 'success' });
  }

  serverStop(): void {
    this.entry({ operation: 'serverStop', result: 'invoked' });
  }

  /** create, delete or setData; a sequential create names the node it made. */
  op(op: MultiOp, req: Who, result: AuditResult, value?: TxnValue): void {
    if (op.type === 'check') return;
    const znode = value?.kind === 'create' ? value.path : op.path;
    const base = { ...who(req), znode, result };
    if (op.type === 'create') this.entry({ ...base, operation: 'create', znode_type: op.mode.toLowerCase(), acl: aclString(op.acl) });
    else this.entry({ ...base, operation: op.type === 'set' ? 'setData' : 'delete' });
  }

  setAcl(path: string, acl: Acl[], req: Who, result: AuditResult): void {
    this.entry({ ...who(req), operation: 'setAcl', znode: path, acl: aclString(acl), result });
  }

  /** One entry for the whole multi, as ZooKeeper writes it, naming the paths its ops touch. */
  multi(ops: MultiOp[], req: Who, result: AuditResult): void {
    this.entry({ ...who(req), operation: 'multiOperation', znode: [...new Set(ops.map((o) => o.path))].join(','), result });
  }

  /** A session closed or expired with ephemerals: ZooKeeper's ephemeralZNodeDeletionOnSessionCloseOrExpire. */
  sessionEphemerals(sessionId: string, paths: string[], result: AuditResult): void {
    if (paths.length === 0) return;
    const shown = paths.slice(0, MAX_PATHS_PER_ENTRY).join(',');
    const more = paths.length > MAX_PATHS_PER_ENTRY ? ` (+${paths.length - MAX_PATHS_PER_ENTRY} more)` : '';
    this.entry({ session: sessionId, operation: 'ephemeralZNodeDeletionOnSessionCloseOrExpire', znode: shown + more, result });
  }

  /** Writes what is buffered and closes the file; resolves once it is written. */
  close(): Promise<void> {
    this.serverStop();
    if (this.out.destroyed || this.out.writableEnded) return Promise.resolve();
    return new Promise((resolve) => this.out.end(() => resolve()));
  }
}
