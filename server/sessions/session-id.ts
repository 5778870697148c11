// Session ids are 64-bit numbers written `0x<hex>`, as ZooKeeper prints them. Operators copy them out of logs,
// zkCli output and other tools, where case and leading zeros vary, so every spelling of one number names one
// session; anything else is a client's mistake (400), not a session that merely ended (410).
import { ZkError } from '../errors.js';

const SESSION_ID = /^0x([0-9a-f]{1,16})$/;

/** The canonical id (`0x` + lowercase hex, no leading zeros) for any spelling of it; '' for no session at all. */
export function sessionIdOf(raw: string, what = 'ZK-Session'): string {
  const s = raw.trim().toLowerCase();
  if (s === '') return '';
  const m = SESSION_ID.exec(s);
  if (!m) throw new ZkError('BadArguments', `${what} must be a session id (0x and up to 16 hex digits), got ${printable(raw)}`);
  return '0x' + (m[1] as string).replace(/^0+(?=.)/, '');
}

/** A client's bytes, quoted for an error message: bounded, and with control and non-ASCII bytes escaped. */
function printable(raw: string): string {
  const cut = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
  return `"${cut.replace(/[^\x20-\x7e]|["\\]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}"`;
}
