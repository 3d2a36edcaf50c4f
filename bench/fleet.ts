/**
 * The fleet lab (issue 16): what a venue day costs. One machine plays the station and N boards:
 * namespaces on a bridge, the server's link and each board's port shaped with tc, each board's
 * card a loop device throttled by the block cgroup, an image of real files that compresses like
 * a real OS. Side by side at each N, in one run:
 *   seed     nginx serves the raw image; each board `curl | dd oflag=direct` (the seed's
 *            installer), no verification;
 *   unicast  `rpi-deploy serve`; each board downloads the runtime bundle from the device API's
 *            runtime route, then runs the bundled agent on Node 24 against its card (--no-peers);
 *   fleet    the same with fleet mode on (the default): boards pass chunks on to each other, the
 *            server is the tracker and feeds the tree's root (docs/fleet-mode.md);
 *   multicast  what FOG does: udp-sender sends the zstd image to all boards at once, each board
 *            `udp-receiver | zstd -d | dd oflag=direct`, then reads its card back and checks its
 *            SHA-256 (bench/fleet/multicast.ts); not in the default list. `--switch` sets what the
 *            lab's switch does with multicast (flood, or IGMP snooping with or without a querier).
 * Sizes shrink by one factor and speeds by another, so times shrink by their quotient while every
 * ratio between link, cards and image stays real (the figures that matter are ratios). Details
 * and measured figures: docs/benchmarks.md.
 * Usage: npm run bench -- fleet [--boards 1,10,25,50] [--designs seed,unicast,fleet,multicast]
 *        [--size-factor 250] [--speed-factor seed=5,unicast=5,fleet=25,multicast=25 | N]
 *        [--card blkio|serial] [--switch flood|snoop-expire|snoop-querier]
 */
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { openCore } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import type { AgentResult } from '../src/agent/index.js';
import { v1Paths } from '../src/protocol/agent-api.js';
import { AGENT_BUNDLE, NODE24 } from '../test/helpers/agent.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { FULL_IMAGE, fleetImage, type FleetImage } from './fleet/image.js';
import {
  SWITCH_MODES,
  boardsOutcome,
  compressImage,
  receiverScript,
  startSender,
  switchOptions,
  type CompressedImage,
  type SenderOutcome,
  type SwitchMode,
} from './fleet/multicast.js';
import {
  BENCH_CARDS,
  FleetLab,
  SERVER_ADDRESS,
  benchCard,
  type Board,
  type BoardExit,
  type LabSpeeds,
} from '../test/helpers/fleet-lab.js';
import { cpuSecondsOf, fmt } from './proc.js';

const MiB = 1024 * 1024;
/** The venue at full scale (issue 16): 1 GbE server link and NICs, SD cards at 50 MB/s write, 90 MB/s read. */
const FULL_SPEEDS: LabSpeeds = { serverLinkBps: 125e6, boardNicBps: 125e6, cardWriteBps: 50e6, cardReadBps: 90e6 };
/** The runtime bundle (Node for linux-arm64 + the agent) every netbooted board downloads first. */
const FULL_RUNTIME_BYTES = 104 * MiB;
const NGINX_PORT = 8080;
const DEVICE_PORT = 5001;
const VENUE = 'FLET';
const PRODUCT = 'KXP2';

const DESIGNS = ['seed', 'unicast', 'fleet', 'multicast'] as const;
type Design = (typeof DESIGNS)[number];
/** The default run already takes about 12 minutes; multicast is asked for by name. */
const DEFAULT_DESIGNS: Design[] = ['seed', 'unicast', 'fleet'];
/**
 * udp-sender's --max-bitrate as a share of the server link: it counts its own headers, the link's
 * tbf counts Ethernet frames, and a sender faster than the link only fills the tbf's queue.
 */
const MULTICAST_LINK_SHARE = 0.9;
/** udpcast's session: the sender starts once all boards joined, or this long after the first did. */
const MULTICAST_MAX_WAIT_S = 30;
/** A receiver that hears nothing from the sender this long gives up (udpcast alone would wait for ever). */
const MULTICAST_RECEIVE_TIMEOUT_S = 10;
/**
 * The lab's boards share this machine's 2 cores, where each real board has 4 of its own. Fleet mode
 * keeps every board writing at its card's speed at once, so at speeds ÷ 5 its 50 boards would need
 * about 4 cores (0.08 each, measured at N = 1) and the run would time the machine, not the design.
 * At ÷ 25 they need under one. The seed's and unicast's boards wait on the server's link and use
 * little CPU, so they keep ÷ 5 and the run stays within minutes. Multicast's boards, like fleet mode's,
 * all write at once. Full-scale times compare designs.
 */
const DEFAULT_SPEED_FACTORS = 'seed=5,unicast=5,fleet=25,multicast=25';
/** A cell whose machine was busier than this share of its cores may have timed the machine, not the design. */
const MACHINE_BUSY_SHARE = 0.85;

interface CellScale {
  speedFactor: number;
  /** Lab time × this = full-scale time. */
  timeFactor: number;
  speeds: LabSpeeds;
}

interface Cell {
  design: Design;
  boards: number;
  scale: CellScale;
  wallS: number;
  serverTxBytes: number;
  serverLinkDrops: number;
  /** Seconds from the start until the first, the median and the last board were done. */
  doneS: [number, number, number];
  serverCpuS: number;
  boardsCpuS: number;
  machineBusyCores: number;
  failures: string[];
  /** unicast, fleet: when the last board had its runtime bundle, seconds from the start. */
  runtimeDoneS?: number;
  /** unicast, fleet: mean bytes each agent wrote (its used chunks) and the mean agent time alone. */
  agentBytes?: number;
  agentS?: number;
  /** fleet: chunks the boards took from each other rather than from the server. */
  fromPeers?: number;
  /** multicast: when the last board had written its card (before its read-back). */
  writtenS?: number;
  /** multicast: the switch's mode and udp-sender's outcome. */
  multicast?: { switchMode: SwitchMode; sender: SenderOutcome };
}

interface Servers {
  nginxPids(): number[];
  servePid: number;
  runtimeUrl: string;
}

export async function benchFleet(args: string[]): Promise<string[]> {
  const { values } = parseArgs({
    args,
    options: {
      boards: { type: 'string', default: '1,10,25,50' },
      designs: { type: 'string', default: DEFAULT_DESIGNS.join(',') },
      'size-factor': { type: 'string', default: '250' },
      'speed-factor': { type: 'string', default: DEFAULT_SPEED_FACTORS },
      card: { type: 'string', default: 'blkio' },
      switch: { type: 'string', default: 'flood' },
    },
  });
  const cardModel = benchCard(values.card);
  const counts = values.boards.split(',').map(Number);
  const designs = values.designs.split(',') as Design[];
  const sizeFactor = Number(values['size-factor']);
  const speedFactors = parseSpeedFactors(values['speed-factor'], designs);
  if (counts.some((n) => !Number.isInteger(n) || n < 1 || n > 250))
    throw new Error(`--boards ${values.boards}: expected counts between 1 and 250, e.g. 1,5`);
  if (designs.some((d) => !DESIGNS.includes(d)))
    throw new Error(`--designs ${values.designs}: expected some of ${DESIGNS.join(', ')}`);
  if (!(sizeFactor >= 1)) throw new Error('--size-factor must be a number ≥ 1');
  const switchMode = values.switch as SwitchMode;
  if (!SWITCH_MODES.includes(switchMode))
    throw new Error(`--switch ${values.switch}: expected one of ${SWITCH_MODES.join(', ')}`);
  if (designs.includes('multicast'))
    for (const tool of ['udp-sender', 'udp-receiver', 'zstd'])
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
        throw new Error(`the multicast design needs ${tool}: apt-get install udpcast zstd`);
  if (!NODE24) throw new Error("Node 24 (the boards' runtime) is missing: run node scripts/fetch-node-runtime.mjs");
  for (const tool of ['nginx', 'curl', 'losetup', 'blkdiscard', 'tc']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new Error(`the fleet lab needs ${tool}: apt-get install nginx curl util-linux iproute2`);
  }
  const node24 = NODE24;
  const image = fleetImage(sizeFactor);
  const runtimeBytes = Math.round(FULL_RUNTIME_BYTES / sizeFactor);
  const mbps = (bps: number) => `${fmt((bps * 8) / 1e6, 0)} Mbit/s`;
  const mb = (bytes: number, digits = 0) => `${fmt(bytes / 1e6, digits)} MB`;
  const lines = [
    ...[...new Set(designs.map((d) => speedFactors[d]))].map((factor) => {
      const speeds = labSpeeds(factor);
      const which = designs.filter((d) => speedFactors[d] === factor).join(', ');
      return `scale for ${which}: sizes ÷ ${sizeFactor}, speeds ÷ ${factor}, so times ÷ ${fmt(sizeFactor / factor, 0)}; server link ${mbps(speeds.serverLinkBps)} (full scale 1 GbE), board NICs ${mbps(speeds.boardNicBps)} (1 GbE), cards write ${fmt(speeds.cardWriteBps / 1e6, 1)} MB/s, read ${fmt(speeds.cardReadBps / 1e6, 1)} MB/s (50 / 90 MB/s)`;
    }),
    `every ratio between link, cards and image is the full-scale one; designs compare by their full-scale times`,
    `image: ${mb(image.sizeBytes)} raw, root ${fmt(image.rootFull * 100, 1)} % full, card ${mb(image.cardBytes)} (full scale ${fmt((image.sizeBytes * sizeFactor) / 1e9, 1)} GB raw, ${fmt((FULL_IMAGE.rootBytes * image.rootFull) / 1e9, 1)} GB used, ${fmt(FULL_IMAGE.cardBytes / 1e9, 0)} GB card); runtime bundle ${mb(runtimeBytes, 2)} (104 MiB)`,
    `card model: ${BENCH_CARDS[cardModel]}`,
  ];
  const log = (line: string) => {
    lines.push(line);
    process.stderr.write(`fleet: ${line}\n`);
  };

  const data = tempDir('rpi-deploy-fleet-');
  const maxBoards = Math.max(...counts);
  let lab: FleetLab | undefined;
  // Ctrl-C or a kill must not leave namespaces, loop devices or cgroups behind.
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`fleet: ${signal}, cleaning up\n`);
    // Exits whatever the clean-up did: a signal must end the run.
    (lab?.destroy() ?? Promise.resolve())
      .catch((err: unknown) => process.stderr.write(`fleet: clean-up failed: ${String(err)}\n`))
      .finally(() => {
        data.remove();
        process.exit(128 + osConstants.signals[signal]);
      });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const stored = await prepareServerData(
      data.path,
      image,
      runtimeBytes,
      maxBoards * counts.length * designs.length + 10,
    );
    log(
      `image stored as ${mb(stored.storedBytes)} of zstd chunks for ${mb(stored.usedBytes)} used: ${fmt(stored.usedBytes / stored.storedBytes, 2)}× (a real OS: about 3×)`,
    );
    log(
      `runtime bundle sent gzip-compressed: ${mb(stored.runtimeWireBytes, 2)} for ${mb(runtimeBytes, 2)} (${fmt(runtimeBytes / stored.runtimeWireBytes, 2)}×)`,
    );
    const compressed = designs.includes('multicast') ? compressImage(image) : undefined;
    if (compressed)
      log(
        `multicast: the image as one zstd stream (level 3, as the chunk store): ${mb(compressed.bytes)} for ${mb(image.sizeBytes)} raw`,
      );
    lab = await FleetLab.create({
      boards: maxBoards,
      cardBytes: image.cardBytes,
      speeds: labSpeeds(speedFactors[designs[0]!]),
      dir: data.path,
      cards: cardModel,
    });
    if (compressed) {
      const { settings } = lab.switchMulticast();
      log(
        `switch (Linux bridge) as created: mcast_snooping ${String(settings['mcast_snooping'])}, mcast_querier ${String(settings['mcast_querier'])}; multicast cells run with --switch ${switchMode}: ${switchOptions(switchMode, sizeFactor / speedFactors.multicast).join(' ')}`,
      );
    }
    for (const factor of new Set(designs.map((d) => speedFactors[d]))) {
      const speeds = labSpeeds(factor);
      lab.setSpeeds(speeds);
      const card = await lab.measureCard(3);
      log(
        `card throttle at speeds ÷ ${factor}, dd O_DIRECT on a board's loop device in its cgroup: write ${fmt(card.writeBps / 1e6, 2)} MB/s (set ${fmt(speeds.cardWriteBps / 1e6, 2)}), read ${fmt(card.readBps / 1e6, 2)} MB/s (set ${fmt(speeds.cardReadBps / 1e6, 2)})`,
      );
    }
    const servers = await startServers(lab, data.path, image, stored.runtimeSha256);
    const cells: Cell[] = [];
    let serial = 0x5f000000;
    const fetchRuntime = `curl -sSf ${servers.runtimeUrl} | gunzip > /dev/null && echo "runtime $(date +%s%N)"`;
    for (const n of counts) {
      for (const design of designs) {
        const speedFactor = speedFactors[design];
        const speeds = labSpeeds(speedFactor);
        lab.setSpeeds(speeds);
        // Chunks are not scaled (4 MiB), so a chunk takes speedFactor× longer on a lab card: the wait
        // for a chunk a parent does not have yet scales with it, to stay as many chunk-times as at full scale.
        const peerWaitMs = 5_000 * speedFactor;
        lab.blankCards();
        execFileSync('sync');
        const boards = lab.boards.slice(0, n);
        const limitMs = timeoutMs(design, n, image, speeds);
        const multicast =
          compressed && design === 'multicast'
            ? startMulticast(lab, {
                boards: n,
                image: compressed,
                mode: switchMode,
                timeFactor: sizeFactor / speedFactor,
                speeds,
              })
            : undefined;
        const cell = await runCell(
          lab,
          design,
          boards,
          () => (design === 'seed' ? servers.nginxPids() : [servers.servePid]),
          (board) =>
            multicast
              ? `${fetchRuntime} && ${receiverScript(board.card, compressed!, image.sizeBytes, { server: SERVER_ADDRESS, ...multicast.timeouts })}`
              : design === 'seed'
                ? `curl -sSf http://${SERVER_ADDRESS}:${NGINX_PORT}/${basename(image.path)} | dd of=${board.card} bs=4M iflag=fullblock oflag=direct status=none`
                : `${fetchRuntime} && exec ${node24} ${AGENT_BUNDLE} --server http://${SERVER_ADDRESS}:${DEVICE_PORT} --target ${board.card} --serial ${(serial++).toString(16)} --venue ${VENUE} --product ${PRODUCT} --json --quiet${design === 'unicast' ? ' --no-peers' : ` --peer-wait ${peerWaitMs}`}`,
          limitMs,
          { speedFactor, timeFactor: sizeFactor / speedFactor, speeds },
        );
        if (multicast) await multicast.finish(cell, image.sizeBytes);
        cells.push(cell);
        log(cellLine(cell, cells, sizeFactor, stored.runtimeWireBytes, stored.usedChunks));
      }
    }
    lines.push(...summary(cells, cardModel));
    if (designs.includes('multicast')) lines.push(...multicastSummary(cells));
    return lines;
  } finally {
    await lab?.destroy();
    data.remove();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Venue, pool, the image in the chunk store, and a runtime bundle of the real size behind the runtime route. */
async function prepareServerData(dataDir: string, image: FleetImage, runtimeBytes: number, boards: number) {
  const core = await openCore(loadConfig({ flags: { dataDir } }), createLogger('silent'));
  await core.fleet.venues.create({ code: VENUE, name: 'Fleet lab' });
  await core.fleet.pools.import({ venue: VENUE, text: `1-${boards}` });
  const record = await core.images.import({ path: image.path }, { product: PRODUCT, version: 'fleet', activate: true });
  const usedChunks = (await core.images.manifest(record.id)).chunks.filter((c) => c.used).length;
  await core.close();
  // What `netboot build` would leave (its arm64 downloads are not needed to time the download):
  // bytes of a real Node binary, as many as the scaled bundle has, named in build.json.
  const netboot = join(dataDir, 'netboot');
  mkdirSync(netboot, { recursive: true });
  const bundle = Buffer.alloc(runtimeBytes);
  const fd = openSync(process.execPath, 'r');
  readSync(fd, bundle, 0, runtimeBytes, 0);
  closeSync(fd);
  const artifact = (file: string, bytes: Buffer) => {
    writeFileSync(join(netboot, file), bytes);
    return { file, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.length };
  };
  const runtime = artifact('runtime-fleet.tar', bundle);
  const runtimeWireBytes = gzipSync(bundle).length;
  const stage1 = artifact('stage1-fleet.cpio', Buffer.from('unused: the lab starts at the runtime download\n'));
  writeFileSync(
    join(netboot, 'build.json'),
    JSON.stringify({ format: 1, builtAt: new Date().toISOString(), inputs: {}, stage1, runtime }),
  );
  return {
    storedBytes: record.storedBytes,
    usedBytes: record.usedBytes,
    usedChunks,
    runtimeSha256: runtime.sha256,
    runtimeWireBytes,
  };
}

async function startServers(
  lab: FleetLab,
  dataDir: string,
  image: FleetImage,
  runtimeSha256: string,
): Promise<Servers> {
  const prefix = join(dataDir, 'nginx');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes auto; user root; pid ${prefix}/nginx.pid; error_log ${prefix}/logs/error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  server { listen ${SERVER_ADDRESS}:${NGINX_PORT}; root ${dirname(image.path)}; } }\n`,
  );
  const nginx: ChildProcess = lab.spawnServer(['nginx', '-c', conf, '-p', prefix, '-g', 'daemon off;']);
  const serve = await lab.serve(dataDir, DEVICE_PORT);
  // Both serve from the page cache, as a station that served the image once does.
  execFileSync('cat', [image.path], { stdio: ['ignore', 'ignore', 'ignore'] });
  execFileSync('sh', ['-c', `find ${join(dataDir, 'images')} -type f -exec cat {} + > /dev/null`]);
  if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}; see ${prefix}/logs/error.log`);
  // Stage 1 fetches the bundle gzip-compressed; the server makes that copy on the first request.
  const runtimeUrl = `http://${SERVER_ADDRESS}:${DEVICE_PORT}${v1Paths.runtimeGzip(runtimeSha256)}`;
  execFileSync('ip', ['netns', 'exec', lab.server, 'curl', '-sSf', '-o', '/dev/null', runtimeUrl]);
  return {
    nginxPids: () => [
      nginx.pid!,
      ...execFileSync('pgrep', ['-P', String(nginx.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter(Boolean)
        .map(Number),
    ],
    servePid: serve.child.pid!,
    runtimeUrl,
  };
}

/**
 * A multicast cell's server side: sets the switch's mode and starts udp-sender for the cell's boards;
 * `finish` waits for it once the boards are done and adds its CPU and statistics to the cell.
 */
function startMulticast(
  lab: FleetLab,
  o: { boards: number; image: CompressedImage; mode: SwitchMode; timeFactor: number; speeds: LabSpeeds },
) {
  lab.configureSwitch(switchOptions(o.mode, o.timeFactor));
  // The boards join after their runtime bundles and the sender waits up to MULTICAST_MAX_WAIT_S for all of them.
  const startTimeoutS = 2 * MULTICAST_MAX_WAIT_S;
  const sender = startSender(lab, {
    file: o.image.path,
    receivers: o.boards,
    bitrateBps: o.speeds.serverLinkBps * MULTICAST_LINK_SHARE,
    maxWaitS: MULTICAST_MAX_WAIT_S,
    startTimeoutS,
  });
  return {
    timeouts: { startTimeoutS, receiveTimeoutS: MULTICAST_RECEIVE_TIMEOUT_S },
    async finish(cell: Cell, imageBytes: number): Promise<void> {
      // A sender whose receivers all gave up may wait on them for a while yet: the cell ends with the boards.
      const timer = setTimeout(() => spawnSync('pkill', ['-KILL', '-P', String(sender.child.pid)]), 15_000);
      const outcome = await sender.done;
      clearTimeout(timer);
      cell.serverCpuS += outcome.cpuS;
      cell.agentBytes = imageBytes;
      cell.multicast = { switchMode: o.mode, sender: outcome };
      if (outcome.code !== 0) cell.failures.push(`udp-sender: exit ${outcome.code}, ${outcome.tail}`);
    },
  };
}

/** Three times what the slower of the link and the cards allows, plus a minute. */
function timeoutMs(design: Design, boards: number, image: FleetImage, s: LabSpeeds): number {
  const perBoard = image.sizeBytes / s.cardWriteBps + (design === 'seed' ? 0 : image.sizeBytes / s.cardReadBps);
  return (3 * Math.max(perBoard, (boards * image.sizeBytes) / s.serverLinkBps + perBoard) + 60) * 1000;
}

/** Busy and total jiffies of the whole machine. */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

async function runCell(
  lab: FleetLab,
  design: Design,
  boards: Board[],
  serverPids: () => number[],
  script: (b: Board) => string,
  limitMs: number,
  scale: CellScale,
): Promise<Cell> {
  const tx0 = lab.serverTxBytes();
  const drops0 = lab.serverLinkDrops();
  const cpu0 = cpuSecondsOf(serverPids());
  const boardsCpu0 = lab.boardsCpuSeconds();
  const jiffies0 = machineJiffies();
  const t0 = performance.now();
  const wall0 = Date.now();
  const exits: BoardExit[] = await Promise.all(boards.map((b) => lab.runBoard(b, script(b), limitMs)));
  const done = exits.map((e) => (e.endMs - t0) / 1000).sort((a, b) => a - b);
  const wallS = done[done.length - 1]!;
  const jiffies1 = machineJiffies();
  const cell: Cell = {
    design,
    boards: boards.length,
    scale,
    wallS,
    serverTxBytes: lab.serverTxBytes() - tx0,
    serverLinkDrops: lab.serverLinkDrops() - drops0,
    doneS: [done[0]!, done[Math.floor((done.length - 1) / 2)]!, wallS],
    serverCpuS: cpuSecondsOf(serverPids()) - cpu0,
    boardsCpuS: lab.boardsCpuSeconds() - boardsCpu0,
    // Busy share of all cores over the cell, times the core count: what everything on the machine used.
    machineBusyCores:
      ((jiffies1.busy - jiffies0.busy) / (jiffies1.total - jiffies0.total)) *
      Number(execFileSync('nproc', { encoding: 'utf8' })),
    failures: [],
  };
  if (design === 'multicast') {
    const outcome = boardsOutcome(exits, t0, wall0);
    cell.failures.push(...outcome.failures);
    cell.runtimeDoneS = Math.max(0, ...outcome.runtimeS);
    cell.writtenS = Math.max(0, ...outcome.writtenS);
    cell.agentS = outcome.imagingS.reduce((a, b) => a + b, 0) / Math.max(1, outcome.imagingS.length);
  } else if (design !== 'seed') {
    let fromPeers = 0;
    const runtimeAt: number[] = [];
    const bytes: number[] = [];
    const agentS: number[] = [];
    for (const [i, e] of exits.entries()) {
      const at = /^runtime (\d+)$/m.exec(e.stdout);
      const last = e.stdout.trim().split('\n').pop() ?? '';
      const result = last.startsWith('{') ? (JSON.parse(last) as AgentResult) : undefined;
      if (!at || result?.status !== 'success') {
        cell.failures.push(`board ${i}: exit ${e.code}, ${result?.message ?? e.stderr.trim().slice(-300)}`);
        continue;
      }
      const runtimeS = Number(BigInt(at[1]!) / 1_000_000n - BigInt(wall0)) / 1000;
      runtimeAt.push(runtimeS);
      bytes.push(result.stats.bytesWritten);
      fromPeers += result.stats.fromPeers ?? 0;
      agentS.push((e.endMs - t0) / 1000 - runtimeS);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    cell.runtimeDoneS = Math.max(0, ...runtimeAt);
    cell.agentBytes = mean(bytes);
    cell.agentS = mean(agentS);
    if (design === 'fleet') cell.fromPeers = fromPeers;
  } else {
    for (const [i, e] of exits.entries())
      if (e.code !== 0) cell.failures.push(`board ${i}: exit ${e.code}, ${e.stderr.trim().slice(-300)}`);
  }
  return cell;
}

function cellLine(
  c: Cell,
  all: Cell[],
  sizeFactor: number,
  /** What one board's runtime download puts on the link (gzip). */
  runtimeBytes: number,
  usedChunks: number,
): string {
  const { speedFactor, timeFactor, speeds: s } = c.scale;
  const single = all.find((x) => x.design === c.design && x.boards === 1);
  const parts = [
    `${c.design.padEnd(8)} N=${String(c.boards).padStart(3)}`,
    `fleet ${fmt(c.wallS, 1).padStart(6)} s (full scale ${fmt((c.wallS * timeFactor) / 60, 0)} min)`,
    single ? `${fmt(c.wallS / single.wallS)}× single` : '',
    `boards done at ${c.doneS.map((x) => fmt(x, 1)).join(' / ')} s (first / median / last)`,
    `server sent ${fmt(c.serverTxBytes / 1e6, 0)} MB (${fmt((c.serverTxBytes * sizeFactor) / 1e9, 1)} GB full) = ${fmt(c.serverTxBytes / s.serverLinkBps, 1)} s of link, link ${fmt((c.serverTxBytes / (s.serverLinkBps * c.wallS)) * 100, 0)} % busy, ${c.serverLinkDrops} packets dropped at it`,
    `server CPU ${fmt(c.serverCpuS, 1)} s = ${fmt(c.serverCpuS / c.wallS, 3)} cores (${fmt((c.serverCpuS / c.wallS) * speedFactor, 2)} at full speed)`,
    `boards CPU ${fmt(c.boardsCpuS / c.wallS, 2)} cores, machine busy ${fmt(c.machineBusyCores, 2)} cores${cpuVerdict(c)}`,
  ];
  if (c.design !== 'seed' && c.agentBytes !== undefined) {
    const floorS = c.agentBytes / s.cardWriteBps + c.agentBytes / s.cardReadBps;
    const runtimeShare = (c.boards * runtimeBytes) / c.serverTxBytes;
    parts.push(
      `runtime bundles done by ${fmt(c.runtimeDoneS!, 1)} s (${fmt((c.runtimeDoneS! / c.wallS) * 100, 0)} % of the time, ${fmt(runtimeShare * 100, 1)} % of the bytes)`,
    );
    const who = c.design === 'multicast' ? 'receive, write and read back' : 'agent';
    parts.push(`${who} ${fmt(c.agentS!, 1)} s = ${fmt(c.agentS! / floorS)}× its disk floor ${fmt(floorS, 1)} s`);
  }
  if (c.multicast) {
    const s = c.multicast.sender;
    parts.push(
      `switch ${c.multicast.switchMode}, cards written by ${fmt(c.writtenS ?? 0, 1)} s, udp-sender sent ${mbOf(s.sentBytes)} MB of data with ${s.retransmits} blocks retransmitted, its CPU ${fmt(s.cpuS, 2)} s`,
    );
  }
  if (c.fromPeers !== undefined)
    parts.push(
      `${c.fromPeers} of ${c.boards * usedChunks} chunks from peers (${fmt((c.fromPeers / (c.boards * usedChunks)) * 100, 0)} %)`,
    );
  if (c.failures.length > 0) parts.push(`FAILED ${c.failures.length}: ${c.failures.slice(0, 3).join('; ')}`);
  return parts.filter(Boolean).join(', ');
}

/** Whether the machine's CPU, rather than the link and the cards, may have set a cell's time, and whose it was. */
function cpuVerdict(c: Cell): string {
  const cores = Number(execFileSync('nproc', { encoding: 'utf8' }));
  if (c.machineBusyCores <= MACHINE_BUSY_SHARE * cores) return '';
  const labCores = (c.boardsCpuS + c.serverCpuS) / c.wallS;
  return labCores > cores / 2
    ? ` (CPU-BOUND: the lab's boards and server used ${fmt(labCores, 2)} of ${cores} cores, so this cell timed the machine; raise --speed-factor for ${c.design})`
    : ` (MACHINE BUSY with other work, the lab used ${fmt(labCores, 2)} cores: times may be stretched, run again on a quiet machine)`;
}

const mbOf = (bytes: number) => fmt(bytes / 1e6, 1);

/** Multicast against fleet mode at each N, and against its own one-board time. */
function multicastSummary(cells: Cell[]): string[] {
  const at = (design: Design, n: number) => cells.find((c) => c.design === design && c.boards === n);
  const one = at('multicast', 1);
  return cells
    .filter((c) => c.design === 'multicast')
    .flatMap((m) => {
      const fleet = at('fleet', m.boards);
      return [
        one ? `N=${m.boards}: multicast's time / its one-board time = ${fmt(m.wallS / one.wallS)}` : '',
        fleet
          ? `N=${m.boards}: multicast's fleet time / fleet mode's = ${fmt((m.wallS * m.scale.timeFactor) / (fleet.wallS * fleet.scale.timeFactor))} at full scale; server sent ${mbOf(m.serverTxBytes)} / ${mbOf(fleet.serverTxBytes)} MB, server CPU ${fmt(m.serverCpuS, 2)} / ${fmt(fleet.serverCpuS, 2)} s, boards' CPU ${fmt(m.boardsCpuS, 1)} / ${fmt(fleet.boardsCpuS, 1)} s`
          : '',
      ].filter(Boolean);
    });
}

function summary(cells: Cell[], cardModel: keyof typeof BENCH_CARDS): string[] {
  const out: string[] = [];
  const at = (design: Design, n: number) => cells.find((c) => c.design === design && c.boards === n);
  const fullScaleS = (c: Cell) => c.wallS * c.scale.timeFactor;
  for (const n of [...new Set(cells.map((c) => c.boards))]) {
    const seed = at('seed', n);
    for (const ours of [at('unicast', n), at('fleet', n)])
      if (seed && ours)
        out.push(
          `N=${n}: the seed's fleet time / ${ours.design}'s = ${fmt(fullScaleS(seed) / fullScaleS(ours))} at full scale (${fmt(fullScaleS(seed) / 60, 0)} / ${fmt(fullScaleS(ours) / 60, 0)} min; the fleet mode's goal at N=50: ≥ 10)`,
        );
    const fleet = at('fleet', n);
    const one = at('fleet', 1);
    if (fleet && one)
      out.push(
        `N=${n}: fleet mode's time / its one-board time = ${fmt(fleet.wallS / one.wallS)} (goal at N=50: ≤ 1.25)`,
      );
  }
  const one = at('unicast', 1);
  if (one?.agentBytes !== undefined) {
    const { speeds: s, timeFactor } = one.scale;
    const floorS = one.agentBytes / s.cardWriteBps + one.agentBytes / s.cardReadBps;
    out.push(
      `one board: agent ${fmt(one.agentS!, 1)} s against its disk floor ${fmt(floorS, 1)} s (${fmt(one.agentBytes / 1e6, 0)} MB written at ${fmt(s.cardWriteBps / 1e6, 1)} MB/s + read back at ${fmt(s.cardReadBps / 1e6, 1)} MB/s) = ${fmt(one.agentS! / floorS)}× (goal ≤ 1.10×); full scale ${fmt((floorS * timeFactor) / 60, 1)} min floor`,
    );
    // The block cgroup throttles reads and writes each on its own budget; a real card (and the
    // serial card) has one medium.
    const overlapFloorS = one.agentBytes / Math.min(s.cardWriteBps, s.cardReadBps);
    if (cardModel === 'blkio')
      out.push(
        `  the lab's cards read and write at once at full rate each (separate cgroup budgets), so read-back that overlaps writing is free here: floor with full overlap ${fmt(overlapFloorS, 1)} s, agent ${fmt(one.agentS! / overlapFloorS)}× that (--card serial has one medium)`,
      );
  }
  return out;
}

/** Lab speeds at `factor` times slower than the venue's. */
function labSpeeds(factor: number): LabSpeeds {
  return {
    serverLinkBps: FULL_SPEEDS.serverLinkBps / factor,
    boardNicBps: FULL_SPEEDS.boardNicBps / factor,
    cardWriteBps: FULL_SPEEDS.cardWriteBps / factor,
    cardReadBps: FULL_SPEEDS.cardReadBps / factor,
  };
}

/** `--speed-factor 5` (every design) or `seed=5,fleet=25` (per design; the others take ÷ 5). */
function parseSpeedFactors(text: string, designs: Design[]): Record<Design, number> {
  const factors = Object.fromEntries(DESIGNS.map((d) => [d, 5])) as Record<Design, number>;
  const all = Number(text);
  if (Number.isFinite(all) && all >= 1)
    return Object.fromEntries(DESIGNS.map((d) => [d, all])) as Record<Design, number>;
  for (const part of text.split(',')) {
    const [design, value] = part.split('=');
    const factor = Number(value);
    if (!DESIGNS.includes(design as Design) || !(factor >= 1))
      throw new Error(
        `--speed-factor ${text}: expected a number ≥ 1 or design=factor pairs such as ${DEFAULT_SPEED_FACTORS} (designs: ${designs.join(', ')})`,
      );
    factors[design as Design] = factor;
  }
  return factors;
}
