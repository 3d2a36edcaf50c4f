import type { Command } from 'commander';
import type { Product } from '../../protocol/fleet.js';
import { VERIFY_MODES, type VerifyMode } from '../../protocol/imaging.js';
import { formatOf, withChange, withCore } from '../context.js';
import { oneOf } from '../options.js';
import { print, printJson, type Column } from '../output.js';

const PRODUCT_COLUMNS: Column<Product>[] = [
  { title: 'code', value: (p) => p.code },
  { title: 'name', value: (p) => p.name },
  { title: 'naming', value: (p) => p.naming },
  { title: 'pattern', value: (p) => p.hostnamePattern },
  { title: 'builtin', value: (p) => (p.builtin ? 'yes' : '') },
  { title: 'delta', value: (p) => (p.imaging.delta ? 'on' : 'off') },
  { title: 'verify', value: (p) => p.imaging.verify },
];

export function registerProduct(product: Command): void {
  product
    .command('list')
    .description('list products')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((opts: { json?: boolean; csv?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ fleet }) => print(formatOf(opts), await fleet.products.list(), PRODUCT_COLUMNS)),
    );

  product
    .command('add <code>')
    .description('define a product and how its boards are named')
    .requiredOption('--name <name>', 'product name')
    .requiredOption(
      '--pattern <pattern>',
      'hostname pattern: "XYZ1-{venue}-{number:3}" (from a pool) or "XYZ1-{venue}-{serial}"',
    )
    .option('--json', 'print JSON')
    .action((code: string, opts: { name: string; pattern: string; json?: boolean }, cmd: Command) =>
      withChange(cmd, { action: 'product.create', target: code.toUpperCase() }, async ({ fleet }) => {
        const p = await fleet.products.create({ code, name: opts.name, hostnamePattern: opts.pattern });
        if (opts.json) printJson(p);
        else
          process.stdout.write(
            `Created product ${p.code}: names like ${p.hostnamePattern} (${p.naming === 'pool' ? 'from a hostname pool' : 'from the board serial'})\n`,
          );
      }),
    );

  product
    .command('set <code>')
    .description("change how the product's boards write and verify their cards")
    .option(
      '--delta <on|off>',
      'delta re-image: read the card first, write only the chunks that differ',
      oneOf(['on', 'off'] as const),
    )
    .option(
      '--verify <full|sample>',
      'read back every written byte, or a sample (docs/delta-reimage.md)',
      oneOf(VERIFY_MODES),
    )
    .option('--json', 'print JSON')
    .action((code: string, opts: { delta?: 'on' | 'off'; verify?: VerifyMode; json?: boolean }, cmd: Command) => {
      if (opts.delta === undefined && opts.verify === undefined)
        cmd.error('error: nothing to change: pass --delta on|off and/or --verify full|sample', { exitCode: 2 });
      return withChange(cmd, { action: 'product.update', target: code.toUpperCase() }, async ({ fleet }) => {
        const p = await fleet.products.update(code, {
          imaging: {
            ...(opts.delta && { delta: opts.delta === 'on' }),
            ...(opts.verify && { verify: opts.verify }),
          },
        });
        if (opts.json) printJson(p);
        else
          process.stdout.write(
            `Product ${p.code}: delta re-image ${p.imaging.delta ? 'on' : 'off'}, verify ${p.imaging.verify}\n`,
          );
      });
    });

  product
    .command('delete <code>')
    .description('delete a product nobody uses')
    .option('--json', 'print JSON')
    .action((code: string, opts: { json?: boolean }, cmd: Command) =>
      withChange(cmd, { action: 'product.delete', target: code.toUpperCase() }, async ({ fleet }) => {
        await fleet.products.remove(code);
        if (opts.json) printJson({ deleted: code.toUpperCase() });
        else process.stdout.write(`Deleted product ${code.toUpperCase()}\n`);
      }),
    );
}
