// The zkgate binary's client side: status, the zkCli-like znode commands, watch, tree, snapshot and restore.
import type { Command } from 'commander';
import { registerStatusCommand } from './status.js';
import { registerZnodeCommands } from './znodes.js';
import { registerAclCommands } from './acl.js';
import { registerTreeCommand } from './tree.js';
import { registerWatchCommand } from './watch.js';
import { registerSnapshotCommands } from './snapshot.js';

export function registerClientCommands(program: Command): void {
  registerStatusCommand(program);
  registerZnodeCommands(program);
  registerAclCommands(program);
  registerTreeCommand(program);
  registerWatchCommand(program);
  registerSnapshotCommands(program);
}
