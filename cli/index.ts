// zkCli-like client commands for the zkgate binary.
import type { Command } from 'commander';

export function registerClientCommands(program: Command): void {
  void program;
}
