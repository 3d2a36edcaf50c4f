import type { Command } from 'commander';
import { createApp } from '../../app.js';
import { LOG_FORMATS, resolveLogFormat, type LogFormat } from '../../lib/log-levels.js';
import { createLogger } from '../../lib/logger.js';
import { notifyReady } from '../../operations/index.js';
import { VERSION } from '../../version.js';
import { configFor } from '../context.js';
import { cliCommand } from '../invocation.js';
import { oneOf } from '../options.js';
import { describeNetboot } from './dhcp.js';

interface ServeOptions {
  deviceListen?: string;
  managementListen?: string;
  netbootInterface?: string;
  dhcpMode?: 'full' | 'proxy';
  allowForeignDhcp?: boolean;
  logFormat?: LogFormat;
}

export function registerServe(command: Command): void {
  command
    .option('--device-listen <host:port>', 'device API address (boards); default 127.0.0.1:5001')
    .option('--management-listen <host:port>', 'management API address (operators); default 127.0.0.1:5000')
    .option(
      '--netboot-interface <name>',
      'serve network boot (DHCP, TFTP) on this interface only, e.g. eth1; default: off',
    )
    .option(
      '--dhcp-mode <mode>',
      'full (hand out addresses) or proxy (the site DHCP server does)',
      oneOf(['full', 'proxy'] as const),
    )
    .option('--allow-foreign-dhcp', 'serve full-mode DHCP even though another DHCP server answers on the interface')
    .option(
      '--log-format <format>',
      'json (for the journal), pretty (readable lines) or auto: pretty on a terminal, json otherwise (the default)',
      oneOf(LOG_FORMATS),
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      const config = configFor(cmd, {
        'device.listen': opts.deviceListen,
        'management.listen': opts.managementListen,
        'netboot.interface': opts.netbootInterface,
        'netboot.dhcp.mode': opts.dhcpMode,
        'netboot.dhcp.foreignServer.allowInFullMode': opts.allowForeignDhcp,
        'log.format': opts.logFormat,
      });
      const log = createLogger(config.log.level, resolveLogFormat(config.log.format, process.stderr.isTTY));
      const app = await createApp(config, log);
      let addresses: Awaited<ReturnType<typeof app.start>>;
      try {
        addresses = await app.start();
      } catch (err) {
        await app.close();
        throw err;
      }
      process.stdout.write(
        `rpi-deploy ${VERSION}\n  device API      ${addresses.device}\n  management API  ${addresses.management}\n${describeNetboot(addresses.netboot)}  data            ${config.dataDir}\nPress Ctrl-C to stop.\n`,
      );
      if (addresses.setupToken) {
        process.stdout.write(
          `\nNo users yet. Open ${addresses.management}/ and create the first admin with this one-time setup token:\n  ${addresses.setupToken}\n` +
            `(or stop the server and run: ${cliCommand()} user add NAME --admin)\n`,
        );
      }
      // Under systemd (Type=notify) the service counts as started only now, with every listener bound.
      await notifyReady().catch((err: unknown) => log.error({ err }, 'could not tell systemd the service is ready'));
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
