import { InvalidArgumentError, type Command } from 'commander';
import { parse } from 'yaml';
import type { FirstBootScope, FirstBootSettingsInput } from '../../protocol/firstboot.js';
import { withChange, withCore } from '../context.js';
import { printJson } from '../output.js';
import { readInputFile } from '../input-file.js';

interface ScopeOptions {
  product?: string;
  venue?: string;
}

function scopeOf(opts: ScopeOptions): { scope: FirstBootScope; code: string } {
  if (!!opts.product === !!opts.venue)
    throw new InvalidArgumentError('name exactly one of --product CODE or --venue CODE');
  return opts.product ? { scope: 'product', code: opts.product } : { scope: 'venue', code: opts.venue! };
}

const EXAMPLE = `Settings file (YAML or JSON; every key optional):
  user: { name: kart, passwordHash: '$y$j9T$…', sudo: true }   # mkpasswd -m yescrypt
  sshAuthorizedKeys: ['ssh-ed25519 AAAA… ops@venue']
  sshPasswordAuth: false
  wifi: { ssid: Track, passphrase: '…', country: US, hidden: false }
  timezone: America/Los_Angeles
  keyboardLayout: us
A board gets its product's settings with its venue's laid over them, key by key.`;

export function registerFirstBoot(fb: Command): void {
  const scoped = (cmd: Command) =>
    cmd.option('--product <code>', 'settings of a product').option('--venue <code>', 'settings of a venue');

  scoped(
    fb
      .command('show')
      .description('print the settings of a product or venue (the Wi-Fi passphrase is stored only as its PSK)'),
  ).action((opts: ScopeOptions, cmd: Command) =>
    withCore(cmd, async ({ fleet }) => {
      const { scope, code } = scopeOf(opts);
      printJson(await fleet.firstBoot.get(scope, code));
    }),
  );

  scoped(
    fb
      .command('set')
      .description('replace the settings of a product or venue from a file')
      .addHelpText('after', `\n${EXAMPLE}`),
  )
    .requiredOption('--file <file>', 'YAML or JSON settings; - reads standard input')
    .action(async (opts: ScopeOptions & { file: string }, cmd: Command) => {
      const { scope, code } = scopeOf(opts);
      const text = await readInputFile(opts.file);
      let input: unknown;
      try {
        input = parse(text);
      } catch (err) {
        throw new InvalidArgumentError(`${opts.file} is not YAML or JSON: ${(err as Error).message}`);
      }
      const settings = (input ?? {}) as FirstBootSettingsInput;
      // Which settings changed, not their values: a Wi-Fi passphrase or its PSK is as secret as a password.
      const details = { scope, code: code.toUpperCase(), keys: Object.keys(settings) };
      await withChange(
        cmd,
        { action: 'firstboot.set', target: `${scope}/${code.toUpperCase()}`, details },
        async ({ fleet }) => printJson(await fleet.firstBoot.set(scope, code, settings)),
      );
    });

  scoped(fb.command('clear').description('remove the settings of a product or venue')).action(
    async (opts: ScopeOptions, cmd: Command) => {
      const { scope, code } = scopeOf(opts);
      await withChange(
        cmd,
        { action: 'firstboot.clear', target: `${scope}/${code.toUpperCase()}` },
        async ({ fleet }) => {
          await fleet.firstBoot.clear(scope, code);
          process.stdout.write(`Cleared the first-boot settings of ${scope} ${code.toUpperCase()}\n`);
        },
      );
    },
  );
}
