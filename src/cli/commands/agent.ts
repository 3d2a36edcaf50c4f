import type { Command } from 'commander';
import { agentMain } from '../../agent/index.js';

/**
 * `rpi-deploy agent …`: the on-board agent from a checkout (on a board, the one-file bundle runs
 * the same code). The agent parses its own options: it must also run where commander is not.
 */
export function registerAgent(command: Command): void {
  command
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (args: string[]) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      try {
        process.exitCode = await agentMain(args, stop.signal);
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
    });
}
