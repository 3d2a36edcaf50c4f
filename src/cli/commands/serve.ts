import type { Command } from 'commander';
import { createApp } from '../../app.js';
import { createLogger } from '../../lib/logger.js';
import { VERSION } from '../../version.js';
import { configFor } from '../context.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the device API and the management API until stopped (Ctrl-C or SIGTERM)')
    .option('--device-listen <host:port>', 'device API address (boards); default 127.0.0.1:5001')
    .option('--management-listen <host:port>', 'management API address (operators); default 127.0.0.1:5000')
    .action(async (opts: { deviceListen?: string; managementListen?: string }, cmd: Command) => {
      const config = configFor(cmd, { 'device.listen': opts.deviceListen, 'management.listen': opts.managementListen });
      const log = createLogger(config.log.level);
      const app = await createApp(config, log);
      let addresses: { device: string; management: string; setupToken?: string };
      try {
        addresses = await app.start();
      } catch (err) {
        await app.close();
        throw err;
      }
      process.stdout.write(
        `rpi-deploy ${VERSION}\n  device API      ${addresses.device}\n  management API  ${addresses.management}\n  data            ${config.dataDir}\nPress Ctrl-C to stop.\n`,
      );
      if (addresses.setupToken) {
        process.stdout.write(
          `\nNo users yet. Open ${addresses.management}/ and create the first admin with this one-time setup token:\n  ${addresses.setupToken}\n` +
            `(or stop the server and run: rpi-deploy user add NAME --admin)\n`,
        );
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          log.info({ signal }, 'stopping');
          void app.stop().then(resolve, (err: unknown) => {
            log.error({ err }, 'stop failed');
            resolve();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
