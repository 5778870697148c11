// The zkgate command: `zkgate server` runs a node; the client commands (ls, get, create, ...) are registered from cli/.
import { Command, Option } from 'commander';
import { loadConfig, UNUSED_ZK_KEYS } from '../server/zoo-cfg.js';
import { ConfigError } from '../server/config-values.js';
import { registerClientCommands } from '../cli/index.js';
import { VERSION } from '../server/version.js';
import { listenFailure } from '../server/listen-failure.js';
import { WalDamaged } from '../storage/wal-damaged.js';

/** A bad zoo.cfg value or flag: one line naming the key, exit 2, no stack. Anything else is rethrown. */
function exitOnConfigError(e: unknown): never {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`zkgate: configuration error (${e.key}): ${e.message}\n`);
  process.exit(2);
}

const program = new Command();
program.name('zkgate').description("ZooKeeper's data model over HTTP and WebSocket, stored in LMDB").version(VERSION, '-V, --version', 'print the version and exit').showHelpAfterError();
program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? 0 : 2);
});

program
  .command('server')
  .description('run a zkgate node (standalone, or an ensemble member when zoo.cfg has server.N lines)')
  .option('--config <file>', 'zoo.cfg file')
  .option('--http-port <n>', 'HTTP port (default 8080)')
  .option('--data-dir <dir>', 'data directory (default ./data)')
  .option('--host <h>', 'HTTP listen address (default 127.0.0.1)')
  .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .action(async (o: { config?: string; httpPort?: string; dataDir?: string; host?: string; logLevel?: string }) => {
    let cfg;
    try {
      cfg = loadConfig(o);
    } catch (e) {
      exitOnConfigError(e);
    }
    // The server's modules load only for `zkgate server`, so client commands start fast.
    const { makeLogger, startServer } = await import('../server/main.js');
    const log = makeLogger(cfg.logLevel);
    for (const k of cfg.unknownKeys) {
      const unused = UNUSED_ZK_KEYS.get(k);
      log.warn({ key: k }, unused === undefined ? `zoo.cfg: unknown key ${k} ignored` : `zoo.cfg: ${k} is not used: ${unused}`);
    }
    let server;
    try {
      server = await startServer(cfg, log);
    } catch (e) {
      // The server's own files (the secret file, the TLS PEM files) are read in startServer, not by loadConfig, so
      // that client commands loading the same zoo.cfg never need them.
      if (e instanceof ConfigError) exitOnConfigError(e);
      if (e instanceof WalDamaged) {
        // EX_DATAERR: the data on disk, not the configuration or the code, is what stops it.
        log.fatal({ file: e.file, validBytes: e.validBytes, lastGoodZxid: e.lastGoodZxid, nextWholeRecord: e.next }, e.message);
        process.stderr.write(`zkgate: ${e.message}\n`);
        process.exit(65);
      }
      const failed = listenFailure(cfg, e as NodeJS.ErrnoException);
      if (failed !== null) {
        process.stderr.write(`zkgate: ${failed.text}\n`);
        process.exit(failed.exit);
      }
      throw e;
    }
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig }, 'shutting down');
      setTimeout(() => {
        log.error('shutdown took longer than 10 s; exiting');
        process.exit(1);
      }, 10000).unref();
      server.close().then(
        () => process.exit(0),
        (e) => {
          log.error({ err: e }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // A certificate rotation: read the PEM files again now rather than at the next minute's check. Without TLS,
    // SIGHUP keeps its default (the process ends), as before.
    if (server.hasTls) process.on('SIGHUP', () => void server.reloadTls('SIGHUP'));
  });

registerClientCommands(program);

await program.parseAsync(process.argv);
