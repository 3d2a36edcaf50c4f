import type { Command } from 'commander';
import { agentMain } from '../../agent/index.js';

/**
 * `rpi-deploy agent …`: the on-board agent from a checkout (on a board, the one-file bundle runs
 * the same code). The agent parses its own options: it must also run where commander is not.
 */
export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description('write, verify and customise this board’s card from the server (run `rpi-deploy agent --help`)')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]')
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
