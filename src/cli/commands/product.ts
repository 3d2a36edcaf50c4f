import type { Command } from 'commander';
import type { Product } from '../../protocol/fleet.js';
import { formatOf, withChange, withCore } from '../context.js';
import { print, printJson, type Column } from '../output.js';

const PRODUCT_COLUMNS: Column<Product>[] = [
  { title: 'code', value: (p) => p.code },
  { title: 'name', value: (p) => p.name },
  { title: 'naming', value: (p) => p.naming },
  { title: 'pattern', value: (p) => p.hostnamePattern },
  { title: 'builtin', value: (p) => (p.builtin ? 'yes' : '') },
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
