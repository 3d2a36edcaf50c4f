/**
 * Delta re-image in the fleet lab (issue 14): one board, its card a loop device throttled by the
 * block cgroup, the lab's image of real files, `rpi-deploy serve` behind the shaped server link,
 * the bundled agent on Node 24. In one run, each on the same card:
 *   sample     a blank card, the product set to `verify: sample`; it goes first, so it also
 *              carries the server's and the agent's first-run costs;
 *   full       a blank card gets version 2: full write plus full read-back;
 *   delta      the card holds version 1, which differs from version 2 in a known share of the
 *              root's files (rewritten in place with debugfs' block map, no mount);
 *   delta 100% the card holds version 2's partition table and other bytes in every used chunk:
 *              the read-first must stop paying for itself;
 *   full again the full cell once more: the ratios are against the mean of the two, and their
 *              difference shows the run's noise;
 *   hint       a board the server imaged with version 1 gets version 3, which rewrites nearly every
 *              root file: the server names the chunks that differ from what it last wrote there,
 *              and the board reads first only the others (docs/delta-reimage.md).
 * Each cell prints its time on the board's clock too: the write phase (writing and verifying the
 * chunks, without process start, enroll and customisation) and the card reader's time reading first.
 * Usage: npm run bench -- delta [--size-factor 250] [--speed-factor 5] [--changed 0.15] [--card blkio|serial]
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openCore } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import type { AgentResult } from '../src/agent/index.js';
import type { Manifest } from '../src/protocol/manifest.js';
import { AGENT_BUNDLE, NODE24 } from '../test/helpers/agent.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { fleetImage } from './fleet/image.js';
import { BENCH_CARDS, FleetLab, SERVER_ADDRESS, benchCard, type LabSpeeds } from '../test/helpers/fleet-lab.js';
import { fmt } from './proc.js';

/** The venue at full scale (issue 16): 1 GbE, SD cards at 50 MB/s write and 90 MB/s read. */
const FULL_SPEEDS: LabSpeeds = { serverLinkBps: 125e6, boardNicBps: 125e6, cardWriteBps: 50e6, cardReadBps: 90e6 };
const DEVICE_PORT = 5001;
const VENUE = 'DLTA';
const PRODUCT = 'KXP2';
/** Root directories whose files version 2 changes, as a package update would. */
const CHANGED_DIRS = ['/usr/bin', '/usr/lib/x86_64-linux-gnu', '/usr/share/doc', '/usr/libexec', '/usr/lib/python3'];

interface Cell {
  name: string;
  seconds: number;
  serverBytes: number;
  result: AgentResult;
}

export async function benchDelta(args: string[]): Promise<string[]> {
  const { values } = parseArgs({
    args,
    options: {
      'size-factor': { type: 'string', default: '250' },
      'speed-factor': { type: 'string', default: '5' },
      changed: { type: 'string', default: '0.15' },
      card: { type: 'string', default: 'blkio' },
    },
  });
  const cardModel = benchCard(values.card);
  const sizeFactor = Number(values['size-factor']);
  const speedFactor = Number(values['speed-factor']);
  const share = Number(values.changed);
  if (!(sizeFactor >= 1 && speedFactor >= 1)) throw new Error('--size-factor and --speed-factor must be numbers ≥ 1');
  if (!(share > 0 && share < 1)) throw new Error(`--changed ${values.changed}: expected a share between 0 and 1`);
  if (!NODE24) throw new Error("Node 24 (the boards' runtime) is missing: run node scripts/fetch-node-runtime.mjs");
  for (const tool of ['debugfs', 'losetup', 'blkdiscard', 'tc', 'dd']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new Error(`the delta bench needs ${tool}: apt-get install e2fsprogs util-linux iproute2 coreutils`);
  }
  const speeds: LabSpeeds = {
    serverLinkBps: FULL_SPEEDS.serverLinkBps / speedFactor,
    boardNicBps: FULL_SPEEDS.boardNicBps / speedFactor,
    cardWriteBps: FULL_SPEEDS.cardWriteBps / speedFactor,
    cardReadBps: FULL_SPEEDS.cardReadBps / speedFactor,
  };
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    process.stderr.write(`delta: ${line}\n`);
  };
  const data = tempDir('rpi-deploy-delta-');
  let lab: FleetLab | undefined;
  try {
    const v1 = fleetImage(sizeFactor);
    const dataDir = join(data.path, 'server');
    const core = await openCore(loadConfig({ flags: { dataDir } }), createLogger('silent'));
    await core.fleet.venues.create({ code: VENUE, name: 'Delta lab' });
    await core.fleet.pools.import({ venue: VENUE, text: '1-20' });
    const r1 = await core.images.import({ path: v1.path }, { product: PRODUCT, version: '1', activate: true });
    const m1 = await core.images.manifest(r1.id);
    const v2Path = join(data.path, 'v2.img');
    copyFileSync(v1.path, v2Path);
    const change = changeFiles(v2Path, m1, share);
    const r2 = await core.images.import({ path: v2Path }, { product: PRODUCT, version: '2', activate: true });
    const m2 = await core.images.manifest(r2.id);
    const v3Path = join(data.path, 'v3.img');
    copyFileSync(v1.path, v3Path);
    changeFiles(v3Path, m1, 1, 'release');
    const r3 = await core.images.import({ path: v3Path }, { product: PRODUCT, version: '3' });
    const m3 = await core.images.manifest(r3.id);
    await core.close();
    const used = m2.chunks.filter((c) => c.used);
    const differ = used.filter((c) => c.sha256 !== m1.chunks[c.index]?.sha256).length;
    const used3 = m3.chunks.filter((c) => c.used);
    const differ3 = used3.filter((c) => c.sha256 !== m1.chunks[c.index]?.sha256).length;
    log(
      `scale: sizes ÷ ${sizeFactor}, speeds ÷ ${speedFactor}; card write ${fmt(speeds.cardWriteBps / 1e6, 1)} MB/s, read ${fmt(speeds.cardReadBps / 1e6, 1)} MB/s, server link ${fmt((speeds.serverLinkBps * 8) / 1e6, 0)} Mbit/s`,
    );
    log(
      `image: ${fmt(v1.sizeBytes / 1e6, 0)} MB raw, ${used.length} used chunks of ${fmt(m2.chunkSizeBytes / 2 ** 20, 0)} MiB, stored ${fmt(r2.storedBytes / 1e6, 0)} MB; version 2 rewrites ${change.files} root files (${fmt(change.bytes / 1e6, 1)} MB), so ${differ} used chunks differ (${fmt((differ / used.length) * 100, 1)} %)`,
    );

    log(`card model: ${BENCH_CARDS[cardModel]}`);
    lab = await FleetLab.create({ boards: 1, cardBytes: v1.cardBytes, speeds, dir: data.path, cards: cardModel });
    const board = lab.boards[0]!;
    await lab.serve(dataDir, DEVICE_PORT);
    execFileSync('sh', ['-c', `find ${join(dataDir, 'images')} -type f -exec cat {} + > /dev/null`]);

    let serial = 0x5d000000;
    const cells: Cell[] = [];
    const cell = async (
      name: string,
      prepare: () => void,
      o: { serial?: number; blank?: boolean } = {},
    ): Promise<Cell> => {
      if (o.blank !== false) lab!.blankCards();
      prepare();
      execFileSync('sync');
      const tx0 = lab!.serverTxBytes();
      const t0 = performance.now();
      const exit = await lab!.runBoard(
        board,
        `exec ${NODE24} ${AGENT_BUNDLE} --server http://${SERVER_ADDRESS}:${DEVICE_PORT} --target ${board.card} --serial ${(o.serial ?? serial++).toString(16)} --venue ${VENUE} --product ${PRODUCT} --json --quiet`,
        600_000,
      );
      const last = exit.stdout.trim().split('\n').pop() ?? '';
      const result = last.startsWith('{') ? (JSON.parse(last) as AgentResult) : undefined;
      if (result?.status !== 'success')
        throw new Error(`${name}: the agent failed: ${result?.message ?? exit.stderr.trim().slice(-500)}`);
      const c = { name, seconds: (exit.endMs - t0) / 1000, serverBytes: lab!.serverTxBytes() - tx0, result };
      cells.push(c);
      const w = result.writeStats!;
      log(
        `${name.padEnd(11)} ${fmt(c.seconds, 1).padStart(6)} s (write phase ${fmt(result.stats.writeMs / 1000, 1)} s), ` +
          `server sent ${fmt(c.serverBytes / 1e6, 1)} MB; ${w.mode}, ${w.chunksReadFirst} chunks read first ` +
          `(${fmt(w.bytesReadFirst / 1e6, 1)} MB in ${fmt(result.stats.readFirstMs / 1000, 1)} s, ${w.readFirstStops} stops), ` +
          `${w.chunksReused} reused, ${w.chunksWritten} written, ${fmt(w.bytesReadBack / 1e6, 1)} MB read back (verify ${w.verify})`,
      );
      return c;
    };

    await setVerify(dataDir, 'sample');
    const sample = await cell('sample', () => undefined);
    await setVerify(dataDir, 'full');
    const full1 = await cell('full', () => undefined);
    const delta = await cell('delta', () => dd(v1.path, board.card));
    const all = await cell('delta 100%', () => scramble(board.card, v2Path, m2));
    const full2 = await cell('full again', () => undefined);
    const known = serial++;
    await activate(dataDir, r1.id);
    await cell('v1 written', () => undefined, { serial: known });
    await activate(dataDir, r3.id, known);
    const hint = await cell('hint', () => undefined, { serial: known, blank: false });

    const fullSeconds = (full1.seconds + full2.seconds) / 2;
    const fullWriteMs = (full1.result.stats.writeMs + full2.result.stats.writeMs) / 2;
    const r = (c: Cell) =>
      `${fmt(c.seconds / fullSeconds)}× (write phase ${fmt(c.result.stats.writeMs / fullWriteMs)}×)`;
    const b = (c: Cell) => fmt(c.serverBytes / full1.serverBytes);
    const wa = all.result.writeStats!;
    // On a card whose reads and writes share one medium, the reads first add their time to the write's.
    const serialCost =
      wa.bytesReadFirst /
      speeds.cardReadBps /
      (wa.bytesWritten / speeds.cardWriteBps + wa.bytesReadBack / speeds.cardReadBps);
    lines.push(
      `full write + verify: ${fmt(full1.seconds, 1)} s and ${fmt(full2.seconds, 1)} s (write phase ${fmt(full1.result.stats.writeMs / 1000, 1)} s and ${fmt(full2.result.stats.writeMs / 1000, 1)} s); ratios are against their mean`,
      `delta at ${fmt((differ / used.length) * 100, 1)} % of chunks changed: ${r(delta)} the full write + verify (goal ≤ 0.6×), server bytes ${b(delta)}× (goal ≤ 0.25×)`,
      `delta at 100 % changed: ${r(all)} the full write + verify (goal ≤ 1.05×), server bytes ${b(all)}×`,
      `  read first at 100 % changed: ${fmt(wa.bytesReadFirst / 1e6, 1)} MB, ${fmt((wa.bytesReadFirst / wa.bytesWritten) * 100, 1)} % of the bytes written; on a card that reads and writes on one medium that adds ${fmt(serialCost * 100, 1)} % to write + verify`,
      `delta with the server's hint, version 1 → 3 at ${fmt((differ3 / used3.length) * 100, 1)} % of chunks changed: ${r(hint)} the full write + verify (goal at 100 %: ≤ 1.05×), ${hint.result.writeStats!.chunksReadFirst} chunks read first, server bytes ${b(hint)}×`,
      `verify sample: ${r(sample)} the full-verify time, ${fmt(sample.result.writeStats!.bytesReadBack / full1.result.writeStats!.bytesReadBack)}× the read-back bytes`,
    );
    if (cardModel === 'blkio')
      lines.push(
        `  the lab's cards read and write at once at full rate each (separate cgroup budgets); a real card shares one medium, which favours reading less (--card serial has one medium)`,
      );
    return lines;
  } finally {
    await lab?.destroy();
    data.remove();
  }
}

/** The image onto the card as a finished write leaves it, outside the board's throttle (preparation, not timed). */
function dd(image: string, card: string): void {
  execFileSync('dd', [`if=${image}`, `of=${card}`, 'bs=4M', 'conv=fsync', 'status=none']);
}

/** Version 2's first chunk (its partition table), then other bytes in every other used chunk. */
function scramble(card: string, image: string, m: Manifest): void {
  const fd = openSync(card, 'r+');
  const src = openSync(image, 'r');
  try {
    const first = Buffer.alloc(m.chunks[0]!.sizeBytes);
    readSync(src, first, 0, first.length, 0);
    writeSync(fd, first, 0, first.length, 0);
    for (const c of m.chunks) {
      if (c.used && c.index !== 0) writeSync(fd, randomBytes(c.sizeBytes), 0, c.sizeBytes, c.offsetBytes);
    }
  } finally {
    closeSync(src);
    closeSync(fd);
  }
}

/** Version `imageId` becomes the product's image; the board `reimage`, if given, is marked to be imaged again. */
async function activate(dataDir: string, imageId: number, reimage?: number): Promise<void> {
  const core = await openCore(loadConfig({ flags: { dataDir } }), createLogger('silent'));
  try {
    await core.images.activate(imageId);
    if (reimage !== undefined) await core.fleet.enrollment.requestReimage(reimage.toString(16));
  } finally {
    await core.close();
  }
}

async function setVerify(dataDir: string, verify: 'full' | 'sample'): Promise<void> {
  const core = await openCore(loadConfig({ flags: { dataDir } }), createLogger('silent'));
  try {
    await core.fleet.products.update(PRODUCT, { imaging: { verify } });
  } finally {
    await core.close();
  }
}

/**
 * Rewrites root files of the image in place (each block's bytes reversed: other bytes, the same
 * compressibility), spread over the root in a fixed pseudo-random order, until about `share` of
 * the used chunks differ: the files of CHANGED_DIRS (an update), or of every directory (a new
 * release). debugfs gives the block map; nothing is mounted.
 */
function changeFiles(
  image: string,
  m: Manifest,
  share: number,
  where: 'update' | 'release' = 'update',
): { files: number; bytes: number } {
  const root = m.partitions.find((p) => p.filesystem === 'ext4');
  if (!root) throw new Error('the image has no ext4 root');
  const dev = `${image}?offset=${root.startBytes}`;
  const debugfs = (commands: string[]) => {
    const script = `${image}.debugfs`;
    writeFileSync(script, commands.join('\n') + '\n');
    return execFileSync('debugfs', ['-f', script, dev], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: 'pipe' });
  };
  const paths: string[] = [];
  const dirs = where === 'update' ? CHANGED_DIRS : everyDirectory((d) => debugfs([`ls -p ${d}`]));
  for (const d of dirs) {
    const names = debugfs([`ls -p ${d}`])
      .split('\n')
      .map((l) => /^\/\d+\/100\d{3}\/\d+\/\d+\/([^/]+)\/(\d+)\/$/.exec(l.trim()))
      .filter((x): x is RegExpExecArray => x !== null && Number(x[2]) > 0)
      .map((x) => `${d}/${x[1]}`);
    paths.push(...names);
  }
  if (paths.length === 0) throw new Error(`no files found under ${dirs.join(', ')}`);
  const order = paths
    .map((p) => ({ p, key: createHash('sha256').update(p).digest('hex') }))
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((x) => x.p);
  const usedChunks = m.chunks.filter((c) => c.used).length;
  const changedChunks = new Set<number>();
  const fd = openSync(image, 'r+');
  let count = 0;
  let bytes = 0;
  try {
    for (let i = 0; i < order.length && changedChunks.size < share * usedChunks; i += 16) {
      const batch = order.slice(i, i + 16);
      const out = debugfs(batch.map((p) => `blocks ${p}`))
        .split('\n')
        .filter((l) => /^\d+( \d+)*\s*$/.test(l.trim()));
      for (const line of out) {
        const blocks = line.trim().split(/\s+/).map(Number);
        const block = Buffer.alloc(4096);
        for (const b of blocks) {
          const at = root.startBytes + b * 4096;
          readSync(fd, block, 0, 4096, at);
          block.reverse();
          writeSync(fd, block, 0, 4096, at);
          changedChunks.add(Math.floor(at / m.chunkSizeBytes));
        }
        count++;
        bytes += blocks.length * 4096;
        if (changedChunks.size >= share * usedChunks) break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { files: count, bytes };
}

/** Every directory of the root, from `ls -p` listings (mode 040xxx entries), breadth first. */
function everyDirectory(list: (dir: string) => string): string[] {
  const found = ['/'];
  for (let i = 0; i < found.length; i++) {
    const dir = found[i]!;
    for (const line of list(dir).split('\n')) {
      const name = /^\/\d+\/040\d{3}\/\d+\/\d+\/([^/]+)\/\d*\/$/.exec(line.trim())?.[1];
      if (name && name !== '.' && name !== '..') found.push(`${dir === '/' ? '' : dir}/${name}`);
    }
  }
  return found;
}
