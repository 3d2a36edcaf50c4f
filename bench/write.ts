/**
 * Writing a card: the agent against `dd bs=4M conv=fsync` and `bmaptool copy` on the same image
 * (≈2.3 GiB, root 73 % full) to the same target file, one after another in one run. Page caches
 * are warm for every source (the image file, the chunk store), so the figures compare the work
 * each tool does, not the disk's read speed. The agent verifies what it wrote from the medium
 * (O_DIRECT); dd does not verify; bmaptool checks the source's checksums only.
 * Each tool runs three times in turn; the median counts. Goal (issue 3): agent ≥ bmaptool and ≥
 * 5× dd. A last line times the disk work the agent must do (write its used chunks, read them back)
 * with dd and no CPU work: bmaptool writes and reads nothing back, so this is the floor to read the
 * ratios against. Usage: npm run bench -- write
 */
import { execFileSync } from 'node:child_process';
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCore } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import { AGENT_BUNDLE, NODE24 } from '../test/helpers/agent.js';
import { loopbackServe, spawnServe } from '../test/helpers/cli.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { BENCH_DIR, largePiImage } from './large-pi-image.js';
import { cpuSecondsOf, fmt, timed, type Timed } from './proc.js';

const ROUNDS = 3;
/** The chunk size of the store and dd's block size here. */
const CHUNK_BYTES = 4 * 1024 * 1024;

export async function benchWrite(): Promise<string[]> {
  const image = largePiImage();
  const lines = [
    `image ${fmt(image.sizeBytes / 1024 ** 3)} GiB, root ${fmt(image.rootFull * 100, 1)} % full (${image.path})`,
  ];
  const data = tempDir('rpi-deploy-bench-');
  const target = join(BENCH_DIR, 'target.img');
  const bmap = join(BENCH_DIR, 'pi-2g.bmap');
  try {
    const core = await openCore(loadConfig({ flags: { dataDir: data.path } }), createLogger('silent'));
    await core.fleet.venues.create({ code: 'BNCH', name: 'Bench' });
    await core.fleet.pools.import({ venue: 'BNCH', text: '1-1000' });
    const t0 = performance.now();
    const record = await core.images.import(
      { path: image.path },
      { product: 'KXP2', version: 'bench', activate: true },
    );
    lines.push(
      `import into the chunk store: ${fmt((performance.now() - t0) / 1000, 1)} s, ${fmt(record.storedBytes / 1024 ** 2, 0)} MiB stored, ${fmt((record.usedBytes / record.sizeBytes) * 100, 1)} % of the image used`,
    );
    await core.close();
    const created = await timed('bmaptool', ['create', '-o', bmap, image.path]);
    lines.push(`bmaptool create (preparation, not counted): ${fmt(created.wallS, 1)} s`);

    const server = await spawnServe(loopbackServe(data.path));
    try {
      // Warm every source once, so no tool pays for a cold read the others did not.
      execFileSync('cat', [image.path], { stdio: ['ignore', 'ignore', 'ignore'] });
      execFileSync('sh', ['-c', `find ${join(data.path, 'images')} -type f -exec cat {} + > /dev/null`]);
      const fresh = () => {
        rmSync(target, { force: true });
        writeFileSync(target, '');
        truncateSync(target, image.sizeBytes + 64 * 1024 * 1024);
        execFileSync('sync');
      };
      /** What the agent wrote (its used chunks), from its last result. */
      let agentBytes = 0;
      const ioFloor = () => {
        const chunks = Math.ceil(agentBytes / CHUNK_BYTES);
        return `dd if=${image.path} of=${target} bs=4M count=${chunks} oflag=direct conv=notrunc status=none & dd if=${image.path} of=/dev/null bs=4M count=${chunks} iflag=direct status=none; wait`;
      };
      let serial = 0xbe000000;
      const agent = (node: string) => async (): Promise<Timed> => {
        const before = cpuSecondsOf([server.child.pid!]);
        const t = await timed(node, [
          AGENT_BUNDLE,
          '--server',
          server.device,
          '--target',
          target,
          '--serial',
          (serial++).toString(16),
          '--venue',
          'BNCH',
          '--product',
          'KXP2',
          '--quiet',
          '--json',
        ]);
        const result = JSON.parse(t.stdout.trim().split('\n').pop()!) as {
          status: string;
          message: string | null;
          stats: { bytesWritten: number };
        };
        if (result.status !== 'success') throw new Error(`agent failed: ${result.message}`);
        agentBytes = result.stats.bytesWritten;
        return { ...t, cpuS: t.cpuS + cpuSecondsOf([server.child.pid!]) - before };
      };
      const runs: [string, () => Promise<Timed>][] = [
        [
          'dd bs=4M conv=fsync',
          () => timed('dd', [`if=${image.path}`, `of=${target}`, 'bs=4M', 'conv=fsync,notrunc', 'status=none']),
        ],
        ['bmaptool copy', () => timed('bmaptool', ['-q', 'copy', '--bmap', bmap, image.path, target])],
        ...(NODE24 ? [[`agent, Node 24 (zstd chunks)`, agent(NODE24)] as [string, () => Promise<Timed>]] : []),
        [`agent, Node ${process.versions.node} (server decompresses)`, agent(process.execPath)],
        // Not a tool: the disk work the agent cannot avoid (write its chunks, read them back from
        // the medium) with no CPU work at all, as a floor to read the ratios against.
        ['disk I/O of the agent alone (dd O_DIRECT)', () => timed('sh', ['-c', ioFloor()])],
      ];
      // Each tool ROUNDS times, taking turns, so a slow moment of the machine hits all alike; the median counts.
      const walls = new Map<string, Timed[]>(runs.map(([name]) => [name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, run] of runs) {
          fresh();
          walls.get(name)!.push(await run());
        }
      }
      const results = runs.map(([name]) => {
        const all = walls.get(name)!.sort((a, b) => a.wallS - b.wallS);
        return { name, t: all[Math.floor(all.length / 2)]!, all };
      });
      for (const { name, t, all } of results) {
        lines.push(
          `${name.padEnd(44)} ${fmt(t.wallS).padStart(6)} s  ${fmt(image.sizeBytes / t.wallS / 1e6, 0).padStart(5)} MB/s of image  CPU ${fmt(t.cpuS, 1)} s${name.startsWith('agent') ? ' (agent + server)' : ''}  (runs: ${all.map((x) => fmt(x.wallS)).join(', ')} s)`,
        );
      }
      const wall = (prefix: string) => results.find((r) => r.name.startsWith(prefix))?.t.wallS;
      const dd = wall('dd')!;
      const bmaptool = wall('bmaptool')!;
      for (const r of results.filter((x) => x.name.startsWith('agent'))) {
        lines.push(
          `ratio ${r.name}: ${fmt(dd / r.t.wallS)}× dd (goal ≥ 5), ${fmt(bmaptool / r.t.wallS)}× bmaptool (goal ≥ 1)`,
        );
      }
      lines.push(
        `ratio if the agent took only its disk I/O: ${fmt(dd / wall('disk')!)}× dd, ${fmt(bmaptool / wall('disk')!)}× bmaptool`,
      );
      return lines;
    } finally {
      server.child.kill('SIGTERM');
    }
  } finally {
    rmSync(target, { force: true });
    data.remove();
  }
}
