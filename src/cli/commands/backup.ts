import { InvalidArgumentError, type Command } from 'commander';
import { resolve } from 'node:path';
import { DATABASE_FILE, openCore } from '../../core.js';
import { loadConfig } from '../../config/index.js';
import { createLogger } from '../../lib/logger.js';
import { createBackup, restoreBackup } from '../../operations/index.js';
import { VERSION } from '../../version.js';
import { configFor, type GlobalOptions } from '../context.js';
import { cliCommand } from '../invocation.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

export function registerBackup(command: Command): void {
  command
    .option('--with-images', 'include the image store itself (as big as the images)')
    .action(async (file: string, opts: { withImages?: boolean }, cmd: Command) => {
      const config = configFor(cmd);
      const configFile = cmd.optsWithGlobals<GlobalOptions>().config ?? process.env['RPI_DEPLOY_CONFIG'] ?? null;
      await createBackup(resolve(file), {
        dataDir: config.dataDir,
        databaseFile: DATABASE_FILE,
        configFile: configFile && resolve(configFile),
        withImages: opts.withImages ?? false,
        version: VERSION,
        out,
      });
    });
}

export function registerRestore(command: Command): void {
  command.action(async (file: string, _opts: unknown, cmd: Command) => {
    const dataDir = cmd.optsWithGlobals<GlobalOptions>().dataDir;
    if (!dataDir) throw new InvalidArgumentError('name the empty directory to restore into: --data-dir DIR');
    const result = await restoreBackup(resolve(file), { dataDir: resolve(dataDir), log: createLogger('warn'), out });
    // The records of images whose files stayed out of the backup are kept: deployments refer to them.
    const core = await openCore(loadConfig({ flags: { dataDir: resolve(dataDir) } }), createLogger('warn'));
    try {
      for (const i of await core.images.withoutFiles())
        out(
          `image ${i.id} (${i.product} ${i.version}${i.active ? ', active' : ''}): no stored files; boards cannot be ` +
            `given it until it is imported again: ${cliCommand()} image add FILE --product ${i.product} --version ${i.version}`,
        );
    } finally {
      await core.close();
    }
    out(
      `Restored into ${resolve(dataDir)}${result.configFile ? `; the config is ${result.configFile}` : ''}. Start with: ${cliCommand()} serve --data-dir ${resolve(dataDir)}`,
    );
  });
}
