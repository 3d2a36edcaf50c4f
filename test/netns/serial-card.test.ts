import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetLab, type CardModel } from '../helpers/fleet-lab.js';
import { serialCardMissing } from '../helpers/serial-card.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The fleet lab's card models (issue 16), measured with dd O_DIRECT as a board sees its card (in
 * its namespace and cgroups). A real SD card is one medium: a write and a read at the same time
 * take the sum of their times. The serial card must do that; the blkio card (a budget for reads
 * and one for writes) takes only the longer of the two, which is why the serial card exists.
 */
const MiB = 1024 * 1024;
const WRITE_BPS = 10e6;
const READ_BPS = 20e6;
const X_MIB = 12;
const writeS = (X_MIB * MiB) / WRITE_BPS;
const readS = (X_MIB * MiB) / READ_BPS;
const serialMissing = serialCardMissing();
const noBlkio = !existsSync('/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device');

let lab: FleetLab | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await lab?.destroy();
  dir?.remove();
});

interface Timed {
  writeS?: number;
  readS?: number;
}

/** Runs `script` as board 0 and picks dd's "N bytes … copied, T s" lines, tagged by the script. */
async function timed(script: string): Promise<Timed> {
  const exit = await lab!.runBoard(lab!.boards[0]!, script, 60_000);
  expect(exit.code, exit.stdout + exit.stderr).toBe(0);
  const out: Timed = {};
  for (const m of exit.stdout.matchAll(/^(write|read) (\d+) bytes .* copied, ([\d.]+) s/gm)) {
    expect(Number(m[2])).toBe(X_MIB * MiB);
    out[m[1] === 'write' ? 'writeS' : 'readS'] = Number(m[3]);
  }
  return out;
}

async function measure(cards: CardModel) {
  dir = tempDir();
  const speeds = { serverLinkBps: 125e6, boardNicBps: 125e6, cardWriteBps: WRITE_BPS, cardReadBps: READ_BPS };
  lab = await FleetLab.create({ boards: 1, cardBytes: 64 * MiB, speeds, dir: dir.path, cards });
  const card = lab.boards[0]!.card;
  const data = `${dir.path}/data`;
  // 4 MiB per call (the agent's chunk size): eight requests queued at once, so the time dd itself
  // takes between calls (long on a loaded machine) is a small share.
  const dd = (tag: string, args: string) => `dd ${args} bs=4M count=${X_MIB / 4} 2>&1 | sed -n 's/^/${tag} /;$p'`;
  const write = dd('write', `if=${data} of=${card} oflag=direct`);
  // The bytes just written, read back: a page cache anywhere below the loop device would make this instant.
  const read = dd('read', `if=${card} of=/dev/null iflag=direct`);
  const readOther = dd('read', `if=${card} of=/dev/null iflag=direct skip=${X_MIB / 4}`);
  const alone = await timed(`head -c ${X_MIB * MiB} /dev/urandom > ${data} && ${write} && ${read}`);
  const check = await timed(
    `cmp -n ${X_MIB * MiB} ${data} ${card} && echo same && dd if=${data} of=${card} bs=4M seek=${X_MIB / 4} oflag=direct status=none`,
  );
  expect(check).toEqual({});
  const together = await timed(`{ ${write} & ${readOther} & wait; }`);
  // A bench may change the lab's speeds between runs.
  lab.setSpeeds({ ...speeds, cardWriteBps: WRITE_BPS / 2 });
  const slower = await timed(write);
  return { alone, together, slower };
}

describe.skipIf(serialMissing !== undefined)('serial card (one medium)', () => {
  it('takes bytes / rate for a write and a read alone, and their sum when they overlap', async () => {
    const { alone, together, slower } = await measure('serial');
    expect(alone.writeS).toBeGreaterThan(writeS * 0.95);
    expect(alone.writeS).toBeLessThan(writeS * 1.25);
    expect(alone.readS).toBeGreaterThan(readS * 0.95);
    expect(alone.readS).toBeLessThan(readS * 1.25);
    const pairS = Math.max(together.writeS!, together.readS!);
    process.stderr.write(
      `serial card: write ${alone.writeS} s, read ${alone.readS} s alone (ideal ${writeS.toFixed(2)}, ${readS.toFixed(2)}); both at once ${pairS} s (sum ${(writeS + readS).toFixed(2)})\n`,
    );
    expect(pairS).toBeGreaterThan((writeS + readS) * 0.92);
    expect(pairS).toBeLessThan((writeS + readS) * 1.25);
    expect(slower.writeS).toBeGreaterThan(2 * writeS * 0.95);
    expect(slower.writeS).toBeLessThan(2 * writeS * 1.25);
  }, 90_000);
});

describe.skipIf(noBlkio || process.getuid?.() !== 0)('blkio card (a budget each)', () => {
  it('runs a read alongside a write for free: the pair takes the longer one, not the sum', async () => {
    const { alone, together } = await measure('blkio');
    const pairS = Math.max(together.writeS!, together.readS!);
    process.stderr.write(
      `blkio card: write ${alone.writeS} s, read ${alone.readS} s alone; both at once ${pairS} s (sum ${(writeS + readS).toFixed(2)})\n`,
    );
    expect(pairS).toBeLessThan(Math.max(writeS, readS) * 1.15);
  }, 90_000);
});
