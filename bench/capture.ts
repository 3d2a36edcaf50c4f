/**
 * Capture over the network (issue 14) in the fleet lab: one board whose card (a loop device
 * throttled by the block cgroup) holds the lab's Pi image is marked for capture; `rpi-deploy
 * serve` runs in the server namespace, the bundled agent on Node 24 in the board's. Prints the
 * card read floor (the used bytes at the card's measured read speed) and, as the headline, the
 * end-to-end time against it (goal ≤ 1.15): from the agent's start to the capture `succeeded`,
 * when the image version exists. Then its parts: the board's (the capture itself, and the agent
 * process with Node start and enroll) and the server's finishing after the board was done
 * (completing the image, sanitising, import). Sizes and speeds shrink by the fleet lab's factors.
 * Sizes shrink by 25, not the fleet lab's 250: a capture has fixed costs that do not shrink with
 * the card (Node's start, enroll, two e2fsck runs, debugfs), about 1.3 s here, which are a fifth
 * of a 6-second capture of 106 MB (÷ 250) and 7 % of a 54-second one of 971 MB (÷ 25); against the
 * seed's 20–25 GB at full scale they are under 1 %.
 * Usage: npm run bench -- capture [--size-factor 25] [--speed-factor 5]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { DATABASE_FILE, openCore } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import type { AgentResult } from '../src/agent/index.js';
import { AGENT_BUNDLE, NODE24 } from '../test/helpers/agent.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { fleetImage } from './fleet/image.js';
import { FleetLab, SERVER_ADDRESS, type LabSpeeds } from '../test/helpers/fleet-lab.js';
import { fmt } from './proc.js';

/** The fleet lab's full-scale venue (bench/fleet.ts): SD cards read at 90 MB/s. */
const FULL_SPEEDS: LabSpeeds = { serverLinkBps: 125e6, boardNicBps: 125e6, cardWriteBps: 50e6, cardReadBps: 90e6 };
const DEVICE_PORT = 5001;
const SERIAL = 'c0ffee01';
const GOAL = 1.15;

export async function benchCapture(args: string[]): Promise<string[]> {
  const { values } = parseArgs({
    args,
    options: { 'size-factor': { type: 'string', default: '25' }, 'speed-factor': { type: 'string', default: '5' } },
  });
  const sizeFactor = Number(values['size-factor']);
  const speedFactor = Number(values['speed-factor']);
  if (!(sizeFactor >= 1 && speedFactor >= 1)) throw new Error('--size-factor and --speed-factor must be numbers ≥ 1');
  if (!NODE24) throw new Error("Node 24 (the boards' runtime) is missing: run node scripts/fetch-node-runtime.mjs");
  const speeds: LabSpeeds = {
    serverLinkBps: FULL_SPEEDS.serverLinkBps / speedFactor,
    boardNicBps: FULL_SPEEDS.boardNicBps / speedFactor,
    cardWriteBps: FULL_SPEEDS.cardWriteBps / speedFactor,
    cardReadBps: FULL_SPEEDS.cardReadBps / speedFactor,
  };
  const lines: string[] = [];
  const log = (l: string) => {
    lines.push(l);
    process.stderr.write(`${l}\n`);
  };
  const image = fleetImage(sizeFactor);
  const data = tempDir('rpi-deploy-bench-capture-');
  const lab = await FleetLab.create({ boards: 1, cardBytes: image.cardBytes, speeds, dir: data.path });
  // Ctrl-C must not leave the lab's namespace, loop device or cgroup behind; the run ends either way.
  const stop = () => {
    lab
      .destroy()
      .catch((err: unknown) => process.stderr.write(`capture: clean-up failed: ${String(err)}\n`))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  try {
    const board = lab.boards[0]!;
    // The golden board's card: the image written in place, bypassing the page cache so reads hit the throttled card.
    execFileSync('dd', [`if=${image.path}`, `of=${board.card}`, 'bs=4M', 'oflag=direct', 'conv=sparse', 'status=none']);
    const card = await lab.measureCard(3);
    execFileSync('dd', [`if=${image.path}`, `of=${board.card}`, 'bs=4M', 'oflag=direct', 'conv=sparse', 'status=none']);

    const dataDir = join(data.path, 'server');
    const core = await openCore(loadConfig({ flags: { dataDir } }), createLogger('silent'));
    const capture = await core.captures.request({ serial: SERIAL, product: 'KXP2', version: 'bench-capture' });
    await core.close();
    await lab.serve(dataDir, DEVICE_PORT);

    const t0 = performance.now();
    const exit = await lab.runBoard(
      board,
      `exec ${NODE24} ${AGENT_BUNDLE} --server http://${SERVER_ADDRESS}:${DEVICE_PORT} --target ${board.card} --serial ${SERIAL} --json --quiet`,
      10 * 60_000,
    );
    const boardS = (exit.endMs - t0) / 1000;
    const result = JSON.parse(exit.stdout.trim().split('\n').pop() ?? '{}') as AgentResult;
    if (result.status !== 'success' || !result.capture)
      throw new Error(`the capture failed: ${exit.stdout}${exit.stderr}`);
    const stats = result.capture.stats;

    const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    let row: { status: string; error: string | null } | undefined;
    try {
      for (;;) {
        row = db.prepare('select status, error from captures where id = ?').get(capture.id) as typeof row;
        if (row?.status !== 'assembling' && row?.status !== 'capturing') break;
        await sleep(100);
      }
    } finally {
      db.close();
    }
    const endS = (performance.now() - t0) / 1000;
    const serverS = (performance.now() - exit.endMs) / 1000;
    if (row?.status !== 'succeeded') throw new Error(`the server did not finish: ${row?.status} ${row?.error}`);

    const floorS = stats.usedBytes / card.readBps;
    const captureS = stats.durationMs / 1000;
    const mb = (b: number) => `${fmt(b / 1e6, 1)} MB`;
    log(
      `scale: sizes ÷ ${sizeFactor}, speeds ÷ ${speedFactor}; card read ${mb(card.readBps)}/s measured (throttle ${mb(speeds.cardReadBps)}/s)`,
    );
    log(
      `card: ${mb(image.cardBytes)}, image ${mb(stats.sizeBytes)}, used ${mb(stats.usedBytes)} in ${stats.chunks} chunks; sent ${mb(stats.bytesSent)} zstd`,
    );
    log(`card read floor (used bytes at the card's read speed): ${fmt(floorS)} s`);
    log(
      `end to end (agent start → image version stored): ${fmt(endS)} s = ${fmt(endS / floorS)} × the floor (goal ≤ ${GOAL})`,
    );
    log(
      `  board: capture ${fmt(captureS)} s = ${fmt(captureS / floorS)} × the floor (reading ${fmt(stats.readMs / 1000)} s of it); agent process ${fmt(boardS)} s with Node start and enroll`,
    );
    log(`  server finishing after the board was done (completing the image, sanitising, import): ${fmt(serverS)} s`);
    return lines;
  } finally {
    process.off('SIGINT', stop);
    await lab.destroy();
    data.remove();
  }
}
