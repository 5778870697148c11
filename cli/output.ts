// How CLI commands print: zkCli's formats for stat and ACLs, --json bodies, and the one place that turns a
// failure into a message and an exit code (ZooKeeper error 1, unreachable 1, bad usage 2), never a stack trace.
import { CliFailure, Unreachable, UsageError, ZkFailure } from './errors.js';

// The wire shapes are the SDK's: the CLI is a client too.
import type { Acl, Stat } from '../client/types.js';
export type { Stat };
export type AclJson = Acl;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** Java's Date.toString in UTC, as zkCli prints ctime/mtime: `Thu Nov 26 15:18:30 UTC 2026`. */
export function javaDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

const hexZxid = (z: string) => '0x' + BigInt(z).toString(16);

export function formatStat(s: Stat): string {
  return [
    `cZxid = ${hexZxid(s.czxid)}`,
    `ctime = ${javaDate(s.ctime)}`,
    `mZxid = ${hexZxid(s.mzxid)}`,
    `mtime = ${javaDate(s.mtime)}`,
    `pZxid = ${hexZxid(s.pzxid)}`,
    `cversion = ${s.cversion}`,
    `dataVersion = ${s.version}`,
    `aclVersion = ${s.aversion}`,
    `ephemeralOwner = ${s.ephemeralOwner}`,
    `dataLength = ${s.dataLength}`,
    `numChildren = ${s.numChildren}`,
  ].join('\n');
}

/** zkCli's getAcl lines: `'world,'anyone` then `: cdrwa`. */
export function formatAcl(acl: AclJson[]): string {
  return acl.map((a) => `'${a.scheme},'${a.id}\n: ${a.perms}`).join('\n');
}

/**
 * Whether stdout's reader went away (`zkgate restore … | head -1`): the rest of the output is dropped and the command
 * finishes its work (a restore half-written because nobody read its last lines would be worse), rather than dying on
 * an unhandled EPIPE.
 */
let stdoutGone = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  stdoutGone = true;
});

export function out(text: string | Uint8Array): void {
  if (!stdoutGone) process.stdout.write(text);
}

export function line(text = ''): void {
  if (!stdoutGone) process.stdout.write(text + '\n');
}

/** Runs a command body; prints any failure the way an operator expects and exits with its code. */
export async function runAction(json: boolean | undefined, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    process.exitCode = report(e, json === true);
  }
}

function report(e: unknown, json: boolean): number {
  if (e instanceof ZkFailure) {
    process.stderr.write(json ? JSON.stringify(e.body) + '\n' : e.message + '\n');
    return 1;
  }
  if (e instanceof Unreachable) {
    process.stderr.write(`zkgate: ${e.message}\n`);
    return 1;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`zkgate: ${e.message}\n`);
    return 2;
  }
  if (e instanceof CliFailure) {
    process.stderr.write(`zkgate: ${e.message}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`zkgate: ${msg}\n`);
  return 1;
}
