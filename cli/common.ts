// Options every client command takes (--url, --auth, --json, --timeout, TLS files) and argument checks shared by them.
import type { Command } from 'commander';
import { Client, type ClientOptions } from './http.js';
import { UsageError } from './errors.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function clientCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .option('--url <url>', 'server URL; repeat or comma-separate for several, tried in turn (default http://127.0.0.1:8080 or $ZKGATE_URL)', collect, [])
    .option('--auth <user:pass>', 'authenticate as digest user (HTTP Basic)')
    .option('--json', 'print the REST response body instead of zkCli-style text')
    .option('--timeout <ms>', 'per-request timeout in milliseconds', '10000')
    .option('--cacert <file>', 'PEM CA certificate to trust for https:// servers (as curl --cacert)')
    .option('--cert <file>', 'PEM client certificate, for a server with tlsClientCaFile (with --key)')
    .option('--key <file>', "PEM key of the --cert client certificate");
}

export function makeClient(o: ClientOptions): Client {
  try {
    return new Client(o);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function checkPath(path: string): string {
  if (!path.startsWith('/')) throw new UsageError(`path must start with /: ${JSON.stringify(path)}`);
  return path;
}

export function intOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? '/' + name : parent + '/' + name;
}
