import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { readSeedInstallation, type SeedImportSummary } from '../../fleet/index.js';
import { withChange, withCore } from '../context.js';
import { printJson } from '../output.js';

function printSummary(s: SeedImportSummary, applied: boolean): void {
  const verb = applied ? 'imported' : 'to import';
  const line = (what: string, c: { added: number; present: number }, extra = '') =>
    process.stdout.write(
      `  ${what.padEnd(12)} ${String(c.added).padStart(5)} ${verb}${extra}, ${c.present} already here\n`,
    );
  process.stdout.write(applied ? 'Imported from the seed installation:\n' : 'Dry run: nothing is changed yet.\n');
  line('venues', s.venues);
  const st = s.poolNames.addedByStatus;
  line('pool names', s.poolNames, ` (${st.available} available, ${st.assigned} assigned, ${st.retired} retired)`);
  line('boards', s.boards);
  line('batches', s.batches);
  line('deployments', s.deployments);
  if (s.skipped.length > 0) {
    process.stdout.write(`Not brought over or changed (${s.skipped.length}):\n`);
    for (const k of s.skipped) process.stdout.write(`  ${k.what}: ${k.why}\n`);
  }
}

async function confirmed(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question('Import this? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}

/** Moving from the seed's Python/Flask system: its deployment.db, brought over once (or again, harmlessly). */
export function registerImportSeed(command: Command): void {
  command
    .option('--yes', 'import without asking (scripts, CI)')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { yes?: boolean; json?: boolean }, cmd: Command) => {
      const seed = readSeedInstallation(file);
      const preview = await withCore(cmd, ({ fleet }) => fleet.seedImport.importSeed(seed, { apply: false }));
      const interactive = process.stdin.isTTY && !opts.json;
      if (!opts.json) printSummary(preview, false);
      if (!opts.yes && !(interactive && (await confirmed()))) {
        if (opts.json) printJson({ applied: false, ...preview });
        else
          process.stdout.write(
            interactive ? 'Nothing imported.\n' : 'Nothing imported: run again with --yes to import.\n',
          );
        return;
      }
      const summary = await withChange(cmd, { action: 'seed.import', target: file }, ({ fleet }) =>
        fleet.seedImport.importSeed(seed, { apply: true }),
      );
      if (opts.json) printJson({ applied: true, ...summary });
      else printSummary(summary, true);
    });
}
