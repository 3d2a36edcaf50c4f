import { Command, CommanderError, Option } from 'commander';
import { isAppError } from '../lib/errors.js';
import { VERSION } from '../version.js';
import { parseLogLevel } from './options.js';

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

/**
 * Every command, as its top-level help line shows it. A command's module (and what it needs: the
 * database, the servers, the agent) is loaded only when that command runs or shows its help, so
 * `--version` and `--help` load commander and nothing else.
 */
interface CommandEntry {
  /** Name and arguments, as commander takes them. */
  spec: string;
  description: string;
  /** A command with subcommands; the others take options, so their help line says `[options]`. */
  group?: true;
  define: () => Promise<(cmd: Command) => void>;
}

const COMMANDS: CommandEntry[] = [
  {
    spec: 'serve',
    description: 'run the device API and the management API until stopped (Ctrl-C or SIGTERM)',
    define: async () => (await import('./commands/serve.js')).registerServe,
  },
  {
    spec: 'venue',
    description: 'venues (4-character codes such as CORO)',
    group: true,
    define: async () => (await import('./commands/venue.js')).registerVenue,
  },
  {
    spec: 'product',
    description: 'products and their hostname rules (KXP2 and RXP2 are built in)',
    group: true,
    define: async () => (await import('./commands/product.js')).registerProduct,
  },
  {
    spec: 'pool',
    description: 'hostname pools: the kart numbers a venue names its boards from',
    group: true,
    define: async () => (await import('./commands/pool.js')).registerPool,
  },
  {
    spec: 'batch',
    description: 'deployment batches: which venue and product the next boards are for',
    group: true,
    define: async () => (await import('./commands/batch.js')).registerBatch,
  },
  {
    spec: 'image',
    description: 'master images, one active per product',
    group: true,
    define: async () => (await import('./commands/image.js')).registerImage,
  },
  {
    spec: 'deployments',
    description: 'imaging attempts, newest first; history is kept forever',
    group: true,
    define: async () => (await import('./commands/deployments.js')).registerDeployments,
  },
  {
    spec: 'device',
    description: 'boards that have been seen',
    group: true,
    define: async () => (await import('./commands/device.js')).registerDevice,
  },
  {
    spec: 'dhcp',
    description: 'the DHCP server of network boot',
    group: true,
    define: async () => (await import('./commands/dhcp.js')).registerDhcp,
  },
  {
    spec: 'netboot',
    description: 'what network-booted boards run before their image is written',
    group: true,
    define: async () => (await import('./commands/netboot.js')).registerNetboot,
  },
  {
    spec: 'user',
    description: 'people who sign in to the web UI and management API',
    group: true,
    define: async () => (await import('./commands/user.js')).registerUser,
  },
  {
    spec: 'simulate',
    description:
      'run N simulated boards (real agents writing to files) against the running server: watch them on the dashboard',
    define: async () => (await import('./commands/simulate.js')).registerSimulate,
  },
  {
    spec: 'firstboot',
    description: 'first-boot customisation of written cards (user, SSH keys, Wi-Fi, timezone) per product or venue',
    group: true,
    define: async () => (await import('./commands/firstboot.js')).registerFirstBoot,
  },
  {
    spec: 'import-seed <file>',
    description:
      'bring a seed installation’s venues, kart-number pools (with each name’s state and board), batches and history over from its deployment.db; shows a dry run first',
    define: async () => (await import('./commands/import-seed.js')).registerImportSeed,
  },
  {
    spec: 'agent [options...]',
    description: 'write, verify and customise this board’s card from the server (run `rpi-deploy agent --help`)',
    define: async () => (await import('./commands/agent.js')).registerAgent,
  },
  {
    spec: 'service',
    description: 'run rpi-deploy as a systemd service (system user, /etc/rpi-deploy/config.yaml, /var/lib/rpi-deploy)',
    group: true,
    define: async () => (await import('./commands/service.js')).registerService,
  },
  {
    spec: 'doctor',
    description:
      'check this machine and the fleet before plugging in boards: config, data dir, deployment interface and its address, ' +
      'ports 67/69 and the listeners, other DHCP servers, the netboot build, batches, images, pools, clock; exit 1 on a failure',
    define: async () => (await import('./commands/doctor.js')).registerDoctor,
  },
  {
    spec: 'backup <file>',
    description:
      'write a backup while the server runs: an online copy of the database (checked), the config in use and a manifest of the ' +
      'image store with checksums; --with-images adds the image chunks',
    define: async () => (await import('./commands/backup.js')).registerBackup,
  },
  {
    spec: 'restore <file>',
    description:
      'restore a backup into an empty data dir (--data-dir DIR, required) and verify every file, the database and its schema',
    define: async () => (await import('./commands/backup.js')).registerRestore,
  },
];

/** Global options that take a value: the word after them is not the command's name. */
const VALUE_OPTIONS = new Set(['--config', '--data-dir', '--log-level']);

/**
 * The command `argv` runs (or asks help for: `help venue`), or undefined for the program itself.
 * Program options come before the command (positional options), so the first word that is not an
 * option or an option's value names it.
 */
function commandNamed(argv: readonly string[]): string | undefined {
  const words = argv.slice(2);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (VALUE_OPTIONS.has(word)) i++;
    else if (!word.startsWith('-')) return word === 'help' ? words.slice(i + 1).find((w) => !w.startsWith('-')) : word;
  }
  return undefined;
}

function leaves(cmd: Command): Command[] {
  return cmd.commands.length === 0 ? [cmd] : cmd.commands.flatMap(leaves);
}

/** The program with every command; only the one `argv` names is defined in full. */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  // Positional options: `image add --version 1.2` is the image's version, not the program's.
  const program = addCommonOptions(
    new Command('rpi-deploy')
      .description('Image fleets of Raspberry Pi 5 boards over the network')
      .version(VERSION, '-V, --version')
      .enablePositionalOptions()
      .exitOverride()
      .showHelpAfterError('(run with --help for usage)'),
  );
  const wanted = commandNamed(argv);
  for (const entry of COMMANDS) {
    const cmd = program.command(entry.spec).description(entry.description);
    if (cmd.name() === wanted) {
      (await entry.define())(cmd);
      for (const leaf of leaves(cmd)) addCommonOptions(leaf);
    } else if (!entry.group) addCommonOptions(cmd);
  }
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync(argv);
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
    if (isAppError(err)) {
      // A configuration error was thrown by the configuration module, so it is loaded already.
      const { ConfigError } = await import('../config/index.js');
      process.stderr.write(`error: ${err.message}\n`);
      return err instanceof ConfigError ? EXIT_USAGE : EXIT_FAILED;
    }
    throw err;
  }
}

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`rpi-deploy: unexpected failure: ${(reason as Error)?.stack ?? String(reason)}\n`);
  process.exit(EXIT_FAILED);
});

process.exitCode = await main(process.argv);
