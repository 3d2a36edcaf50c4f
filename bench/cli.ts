/**
 * CLI start-up: what one call costs an operator, beside Node starting and doing nothing. Each
 * command runs as a whole process, in turn with the others (so a busy machine slows them all
 * alike), several times; the figures are wall and CPU seconds, min / median / max.
 */
import { join } from 'node:path';
import { CLI } from '../test/helpers/cli.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { fmt, timed } from './proc.js';

const RUNS = 7;

/** The targets, in seconds. */
const TARGETS: Record<string, number> = { '--version': 0.3, 'venue list': 0.5 };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => `${fmt(Math.min(...xs))} / ${fmt(median(xs))} / ${fmt(Math.max(...xs))}`;

export async function benchCli(args: string[]): Promise<string[]> {
  const runsAt = args.indexOf('--runs');
  const runs = runsAt === -1 ? RUNS : Number(args[runsAt + 1]);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number of runs, 1 or more');
  const data = tempDir('rpi-deploy-bench-');
  try {
    const dataDir = join(data.path, 'data');
    // A prepared data dir: the database exists and has a venue, as on a working installation.
    await timed(process.execPath, [CLI, 'venue', 'add', 'BNCH', '--name', 'Bench', '--data-dir', dataDir]);
    const commands: [string, string[]][] = [
      ['node -e 0', ['-e', '0']],
      ['--version', [CLI, '--version']],
      ['--help', [CLI, '--help']],
      ['venue list', [CLI, 'venue', 'list', '--data-dir', dataDir]],
    ];
    const wall = new Map(commands.map(([name]) => [name, [] as number[]]));
    const cpu = new Map(commands.map(([name]) => [name, [] as number[]]));
    for (const [, argv] of commands) await timed(process.execPath, argv); // warm the file cache
    for (let i = 0; i < runs; i++)
      for (const [name, argv] of commands) {
        const t = await timed(process.execPath, argv);
        wall.get(name)!.push(t.wallS);
        cpu.get(name)!.push(t.cpuS);
      }
    const lines = [`${runs} runs of each, in turn; seconds min / median / max`];
    for (const [name] of commands)
      lines.push(`${name.padEnd(12)} wall ${spread(wall.get(name)!)}   cpu ${spread(cpu.get(name)!)}`);
    // The targets are wall seconds on a quiet machine, where a call's wall time is its CPU time. On
    // a shared machine wall time mostly waits for a processor (node -e 0 shows how much), so the
    // verdict reads the CPU median and the wall median is printed beside it.
    const idle = median(wall.get('node -e 0')!);
    for (const [name, target] of Object.entries(TARGETS)) {
      const c = median(cpu.get(name)!);
      lines.push(
        `${name}: CPU median ${fmt(c)} s, wall median ${fmt(median(wall.get(name)!))} s (node -e 0 ${fmt(idle)} s); ` +
          `target ≤ ${fmt(target, 1)} s: ${c <= target ? 'met' : 'NOT met'}`,
      );
    }
    return lines;
  } finally {
    data.remove();
  }
}
