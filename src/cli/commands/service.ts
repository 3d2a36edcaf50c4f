import type { Command } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_SERVICE_PATHS, installService, uninstallService, type ServicePaths } from '../../operations/index.js';
import type { GlobalOptions } from '../context.js';
import { CLI_ENTRY } from '../invocation.js';

interface ServiceOptions {
  dryRun?: boolean;
  user?: string;
  unitFile?: string;
}

function pathsFor(opts: ServiceOptions, cmd: Command): ServicePaths {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return {
    user: opts.user ?? DEFAULT_SERVICE_PATHS.user,
    configFile: resolve(g.config ?? DEFAULT_SERVICE_PATHS.configFile),
    dataDir: resolve(g.dataDir ?? DEFAULT_SERVICE_PATHS.dataDir),
    unitFile: resolve(opts.unitFile ?? DEFAULT_SERVICE_PATHS.unitFile),
    node: process.execPath,
    cli: CLI_ENTRY,
  };
}

const out = (line: string) => process.stdout.write(`${line}\n`);

export function registerService(service: Command): void {
  const common = (cmd: Command) =>
    cmd
      .option('--dry-run', 'print what would be done, change nothing')
      .option('--user <name>', `system user the service runs as (default ${DEFAULT_SERVICE_PATHS.user})`)
      .option('--unit-file <file>', `where the systemd unit goes (default ${DEFAULT_SERVICE_PATHS.unitFile})`);

  common(
    service
      .command('install')
      .description(
        'create the system user, the data dir (0700), the config (only if none exists; --config names it) and a hardened systemd unit ' +
          'that runs this installation with only CAP_NET_BIND_SERVICE; needs root',
      ),
  ).action((opts: ServiceOptions, cmd: Command) =>
    installService(pathsFor(opts, cmd), { dryRun: opts.dryRun ?? false, out }),
  );

  common(
    service
      .command('uninstall')
      .description('stop the service and remove its unit; the data, config and user stay; needs root'),
  ).action((opts: ServiceOptions, cmd: Command) =>
    uninstallService(pathsFor(opts, cmd), { dryRun: opts.dryRun ?? false, out }),
  );
}
