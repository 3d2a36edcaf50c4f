import { InvalidArgumentError, type Command } from 'commander';
import { SANITISE_STEPS, type ImportProgress, type SanitiseReport, type SanitiseStep } from '../../images/index.js';
import type { Capture } from '../../protocol/capture.js';
import type { ImageDiff } from '../../protocol/image-diff.js';
import type { Image } from '../../protocol/images.js';
import { formatOf, withChange, withCore } from '../context.js';
import { cliCommand } from '../invocation.js';
import { oneOf, parseInteger } from '../options.js';
import { formatBytes } from '../../protocol/units.js';
import { print, printJson, progressPrinter, type Column } from '../output.js';

const IMAGE_COLUMNS: Column<Image>[] = [
  { title: 'id', value: (i) => i.id },
  { title: 'product', value: (i) => i.product },
  { title: 'version', value: (i) => i.version },
  { title: 'active', value: (i) => (i.active ? 'yes' : '') },
  { title: 'size', value: (i) => formatBytes(i.sizeBytes), csv: (i) => i.sizeBytes },
  { title: 'used', value: (i) => formatBytes(i.usedBytes), csv: (i) => i.usedBytes },
  { title: 'stored', value: (i) => formatBytes(i.storedBytes), csv: (i) => i.storedBytes },
  { title: 'os', value: (i) => i.osGeneration },
  { title: 'sha256', value: (i) => i.sha256.slice(0, 16), csv: (i) => i.sha256 },
  { title: 'source', value: (i) => i.sourceName },
  { title: 'notes', value: (i) => i.notes },
];

const CAPTURE_COLUMNS: Column<Capture>[] = [
  { title: 'id', value: (c) => c.id },
  { title: 'serial', value: (c) => c.serial },
  { title: 'product', value: (c) => c.product },
  { title: 'version', value: (c) => c.version },
  { title: 'status', value: (c) => c.status },
  { title: 'received', value: (c) => formatBytes(c.bytesReceived) },
  { title: 'image', value: (c) => c.imageId },
  { title: 'kept', value: (c) => c.keep.join(' ') },
  { title: 'error', value: (c) => c.error },
];

/** Import progress on stderr: a percentage while reading, a line when each later phase starts. */
function importProgressPrinter(): (p: ImportProgress) => void {
  const printers = new Map<string, (done: number, total: number) => void>();
  return (p) => {
    if (p.phase === 'sanitising' || p.phase === 'analysing' || p.phase === 'storing') {
      if (p.doneBytes === 0) process.stderr.write(`${p.phase}\n`);
      return;
    }
    if (!printers.has(p.phase)) printers.set(p.phase, progressPrinter(p.phase));
    printers.get(p.phase)!(p.doneBytes, p.totalBytes ?? p.doneBytes);
  };
}

const parseStep = oneOf(SANITISE_STEPS);

/** The diff as an operator reads it: the figures, then the changed files of each ext4 partition. */
export function formatImageDiff(d: ImageDiff): string {
  const name = (s: ImageDiff['from']) => `${s.product} ${s.version} (image ${s.id})`;
  const lines = [
    `${name(d.to)} against ${name(d.from)}:`,
    `  ${d.differingChunks} of ${d.chunks} chunks differ (${formatBytes(d.differingBytes)}); ` +
      `${d.differingUsedChunks} of them used (${formatBytes(d.differingUsedBytes)} a board writes)`,
  ];
  for (const p of d.partitions) {
    lines.push(`  partition ${p.number} (${p.filesystem}): ${p.files.length} changed files and directories`);
    for (const f of p.files) lines.push(`    ${f}`);
    if (p.filesTruncated) lines.push('    … and more (the list stops there)');
  }
  return `${lines.join('\n')}\n`;
}

/** One line per step: what it removed, emptied, added or skipped (sanitiseImage's report). */
export function formatSanitiseReport(report: SanitiseReport): string {
  const lines = [`Sanitised the root filesystem (partition ${report.partitionNumber}):`];
  for (const s of report.steps) {
    if (s.kept) {
      lines.push(`  ${s.step}: kept (--keep)`);
      continue;
    }
    const parts = [
      s.removed.length > 0 && `removed ${listed(s.removed)}`,
      s.emptied.length > 0 && `emptied ${listed(s.emptied)}`,
      s.added.length > 0 && `added ${listed(s.added)}`,
      ...s.skipped.map((k) => `skipped ${k.path}: ${k.reason}`),
      s.note,
    ].filter(Boolean);
    lines.push(`  ${s.step}: ${parts.length > 0 ? parts.join('; ') : 'nothing found'}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A few paths, then how many more. */
function listed(paths: string[], shown = 4): string {
  const head = paths.slice(0, shown).join(', ');
  return paths.length > shown ? `${head} and ${paths.length - shown} more` : head;
}

export function registerImage(image: Command): void {
  image
    .command('list')
    .description('list images')
    .option('--product <code>', 'only this product')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((opts: { product?: string; json?: boolean; csv?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ images }) =>
        print(
          formatOf(opts),
          await images.list({ product: opts.product }),
          IMAGE_COLUMNS,
          `No images yet: ${cliCommand()} image add FILE --product P --version V`,
        ),
      ),
    );

  image
    .command('add <file>')
    .description(
      'import a master image (.img, .img.xz, .img.gz, .img.zst or a .zip holding one .img) into the image store',
    )
    .requiredOption('--product <code>', 'product the image is for')
    .requiredOption('--version <version>', 'image version, e.g. 2026.11.1')
    .option('--notes <text>', 'free text')
    .option('--activate', 'make it the active image of its product')
    .option(
      '--sanitise',
      'reset a golden board identity first (machine-id, SSH host keys, cloud-init state, logs, shell histories, ' +
        'DHCP leases, swap file); docs/images.md',
    )
    .option(
      '--keep <step>',
      `with --sanitise, a step to skip (repeatable): ${SANITISE_STEPS.join(', ')}`,
      (step: string, all: SanitiseStep[]) => [...all, parseStep(step)],
      [],
    )
    .option('--json', 'print JSON')
    .action(
      async (
        file: string,
        opts: {
          product: string;
          version: string;
          notes?: string;
          activate?: boolean;
          sanitise?: boolean;
          keep: SanitiseStep[];
          json?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.keep.length > 0 && !opts.sanitise)
          throw new InvalidArgumentError('--keep only applies with --sanitise');
        let sanitised: SanitiseReport | null = null;
        await withChange(cmd, { action: 'image.add', target: (i: Image) => String(i.id) }, async ({ images }) => {
          const i = await images.import(
            { path: file },
            {
              product: opts.product,
              version: opts.version,
              notes: opts.notes ?? null,
              activate: opts.activate === true,
            },
            {
              onProgress: importProgressPrinter(),
              ...(opts.sanitise && { sanitise: { keep: opts.keep } }),
              onSanitised: (report) => (sanitised = report),
            },
          );
          if (opts.json) printJson(sanitised ? { ...i, sanitise: sanitised } : i);
          else {
            process.stdout.write(
              `Added image ${i.id}: ${i.product} ${i.version}, ${formatBytes(i.sizeBytes)} (${formatBytes(i.usedBytes)} used, ${formatBytes(i.storedBytes)} stored), ${i.osGeneration}, sha256 ${i.sha256}${i.active ? ' (active)' : ''}\n`,
            );
            if (sanitised) process.stdout.write(formatSanitiseReport(sanitised));
          }
          return i;
        });
      },
    );

  image
    .command('manifest <id>')
    .description('what a board receives to write the image: chunks, partitions, used ranges, boot files (JSON)')
    .action((id: string, _opts: unknown, cmd: Command) =>
      withCore(cmd, async ({ images }) => printJson(await images.manifest(parseInteger(id)))),
    );

  image
    .command('diff <from> <to>')
    .description(
      'how image TO differs from FROM (each an id or PRODUCT@VERSION): chunks, bytes and the files whose blocks changed',
    )
    .option('--json', 'print JSON')
    .action((from: string, to: string, opts: { json?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ images }) => {
        const [a, b] = await Promise.all([images.resolve(from), images.resolve(to)]);
        const diff = await images.diff(a.id, b.id);
        if (opts.json) printJson(diff);
        else process.stdout.write(formatImageDiff(diff));
      }),
    );

  image
    .command('show <id>')
    .description('one image record (JSON)')
    .action((id: string, _opts: unknown, cmd: Command) =>
      withCore(cmd, async ({ images }) => printJson(await images.get(parseInteger(id)))),
    );

  const switches: ['activate' | 'deactivate', string, string][] = [
    ['activate', 'make this the image boards of its product receive', 'is now active'],
    ['deactivate', 'stop handing this image out', 'is not active'],
  ];
  for (const [action, description, outcome] of switches) {
    image
      .command(`${action} <id>`)
      .description(description)
      .option('--json', 'print JSON')
      .action((id: string, opts: { json?: boolean }, cmd: Command) =>
        withChange(cmd, { action: `image.${action}`, target: id }, async ({ images }) => {
          const i = await images[action](parseInteger(id));
          if (opts.json) printJson(i);
          else process.stdout.write(`Image ${i.id} (${i.product} ${i.version}) ${outcome}\n`);
        }),
      );
  }

  image
    .command('delete <id>')
    .description('delete an image record')
    .option('--force', 'even if it is the active image of its product')
    .option('--json', 'print JSON')
    .action((id: string, opts: { force?: boolean; json?: boolean }, cmd: Command) =>
      withChange(cmd, { action: 'image.delete', target: id }, async ({ images }) => {
        await images.remove(parseInteger(id), { force: opts.force === true });
        if (opts.json) printJson({ deleted: parseInteger(id) });
        else process.stdout.write(`Deleted image ${id}\n`);
      }),
    );

  image
    .command('capture')
    .description(
      'mark a board: at its next netboot it reads its own card (used bytes only) into a new image version, sanitised',
    )
    .requiredOption('--serial <serial>', 'the golden board')
    .requiredOption('--product <code>', 'product the image is for')
    .requiredOption('--version <version>', 'version of the new image, e.g. 1.1.0')
    .option('--notes <text>', 'free text')
    .option(
      '--keep <step>',
      `a sanitise step to skip (repeatable): ${SANITISE_STEPS.join(', ')}`,
      (step: string, all: string[] = []) => [...all, step],
    )
    .option('--json', 'print JSON')
    .action(
      async (
        opts: { serial: string; product: string; version: string; notes?: string; keep?: string[]; json?: boolean },
        cmd: Command,
      ) => {
        await withChange(
          cmd,
          { action: 'image.capture', target: (c: Capture) => String(c.id) },
          async ({ captures }) => {
            const c = await captures.request({
              serial: opts.serial,
              product: opts.product,
              version: opts.version,
              notes: opts.notes ?? null,
              keep: (opts.keep ?? []) as SanitiseStep[],
            });
            if (opts.json) printJson(c);
            else
              process.stdout.write(
                `Capture ${c.id}: board ${c.serial} becomes ${c.product} ${c.version} at its next netboot (power-cycle it); follow it with: ${cliCommand()} image captures\n`,
              );
            return c;
          },
        );
      },
    );

  image
    .command('captures')
    .description('list capture requests, newest first')
    .option('--status <status>', 'only pending, capturing, assembling, succeeded, failed or cancelled ones')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((opts: { status?: Capture['status']; json?: boolean; csv?: boolean }, cmd: Command) =>
      withCore(cmd, async ({ captures }) =>
        print(
          formatOf(opts),
          await captures.list({ status: opts.status }),
          CAPTURE_COLUMNS,
          `No captures: ${cliCommand()} image capture --serial S --product P --version V`,
        ),
      ),
    );

  image
    .command('capture-cancel <id>')
    .description('cancel a capture the board has not finished uploading')
    .option('--json', 'print JSON')
    .action((id: string, opts: { json?: boolean }, cmd: Command) =>
      withChange(cmd, { action: 'image.capture-cancel', target: id }, async ({ captures }) => {
        const c = await captures.cancel(parseInteger(id));
        if (opts.json) printJson(c);
        else process.stdout.write(`Capture ${c.id} (board ${c.serial}) cancelled\n`);
      }),
    );
}
