import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config/index.js';
import { isAppError } from '../lib/errors.js';
import { VERSION } from '../version.js';
import { parseLogLevel } from './context.js';
import { registerAgent } from './commands/agent.js';
import { registerBackup } from './commands/backup.js';
import { registerBatch } from './commands/batch.js';
import { registerDeployments } from './commands/deployments.js';
import { registerDevice } from './commands/device.js';
import { registerDhcp } from './commands/dhcp.js';
import { registerDoctor } from './commands/doctor.js';
import { registerFirstBoot } from './commands/firstboot.js';
import { registerImage } from './commands/image.js';
import { registerImportSeed } from './commands/import-seed.js';
import { registerNetboot } from './commands/netboot.js';
import { registerPool } from './commands/pool.js';
import { registerProduct } from './commands/product.js';
import { registerServe } from './commands/serve.js';
import { registerService } from './commands/service.js';
import { registerSimulate } from './commands/simulate.js';
import { registerUser } from './commands/user.js';
import { registerVenue } from './commands/venue.js';

/** Exit codes: 0 done, 1 the operation failed (the message says why), 2 the command line or configuration is wrong. */
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/** --config, --data-dir and --log-level are accepted before the command and after it. */
function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'YAML configuration file (or RPI_DEPLOY_CONFIG)')
    .option('--data-dir <dir>', 'data directory holding the database (or RPI_DEPLOY_DATA_DIR; default ./data)')
    .addOption(
      new Option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent').argParser(parseLogLevel),
    );
}

function leaves(cmd: Command): Command[] {
  return cmd.commands.length === 0 ? [cmd] : cmd.commands.flatMap(leaves);
}

export function buildProgram(): Command {
  // Positional options: `image add --version 1.2` is the image's version, not the program's.
  const program = addCommonOptions(
    new Command('rpi-deploy')
      .description('Image fleets of Raspberry Pi 5 boards over the network')
      .version(VERSION, '-V, --version')
      .enablePositionalOptions()
      .exitOverride()
      .showHelpAfterError('(run with --help for usage)'),
  );
  registerServe(program);
  registerVenue(program);
  registerProduct(program);
  registerPool(program);
  registerBatch(program);
  registerImage(program);
  registerDeployments(program);
  registerDevice(program);
  registerDhcp(program);
  registerNetboot(program);
  registerUser(program);
  registerSimulate(program);
  registerFirstBoot(program);
  registerImportSeed(program);
  registerAgent(program);
  registerService(program);
  registerDoctor(program);
  registerBackup(program);
  for (const leaf of leaves(program)) addCommonOptions(leaf);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // A command that finished with a result of its own (the agent's failure) set it.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return 0;
      if (err.code === 'commander.invalidArgument' && !err.message.startsWith('error:'))
        process.stderr.write(`error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (isAppError(err)) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT_FAILED;
    }
    throw err;
  }
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`rpi-deploy: unexpected failure: ${(reason as Error)?.stack ?? String(reason)}\n`);
  process.exit(EXIT_FAILED);
});

process.exitCode = await main(process.argv);
