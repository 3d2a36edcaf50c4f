import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCard } from '../../src/agent/card.js';
import { REAL_ROOTS } from '../../src/agent/identify.js';
import { inspectTarget } from '../../src/agent/target.js';
import { cardFile } from '../helpers/agent.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The read-back must come from the medium. A loop device is a card whose medium (the backing
 * file) can be changed behind the device's page cache: the cached copy still shows what was
 * written, the medium does not. Loop devices are not available everywhere; without one these
 * tests are skipped and the file-based tests in src/agent/writer.test.ts still run.
 */
const LOOP_AVAILABLE = (() => {
  try {
    execFileSync('losetup', ['--find'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let dir: ReturnType<typeof tempDir>;
let backing: string;
let loop: string | undefined;
beforeAll(() => {
  dir = tempDir();
  backing = cardFile(join(dir.path, 'card.img'), 16 * 1024 * 1024);
  if (LOOP_AVAILABLE) loop = execFileSync('losetup', ['--find', '--show', backing], { encoding: 'utf8' }).trim();
});
afterAll(() => {
  if (loop) execFileSync('losetup', ['-d', loop]);
  dir.remove();
});

describe('card read-back on a block device', () => {
  it.skipIf(!LOOP_AVAILABLE)('sees a change on the medium that the page cache hides', async () => {
    const target = await inspectTarget(loop!, REAL_ROOTS);
    expect(target).toMatchObject({ kind: 'block', sizeBytes: 16 * 1024 * 1024 });
    const card = await openCard(target);
    try {
      expect(card.verifyMethod).toBe('direct-io');
      const data = randomBytes(1024 * 1024);
      await card.writeAt(4 * 1024 * 1024, data);
      await card.flush();
      expect((await card.readBack(4 * 1024 * 1024, data.length)).equals(data)).toBe(true);
      // The card's writes bypass the page cache; a buffered read fills it, as any reader would.
      expect((await card.read(4 * 1024 * 1024, data.length)).equals(data)).toBe(true);

      // Change the medium itself, behind the loop device's page cache.
      const fd = openSync(backing, 'r+');
      writeSync(fd, Buffer.from('bit rot'), 0, 7, 4 * 1024 * 1024 + 4096);
      fsyncSync(fd);
      closeSync(fd);

      expect((await card.read(4 * 1024 * 1024, data.length)).equals(data)).toBe(true); // the cache still says all is well
      const cold = await card.readBack(4 * 1024 * 1024, data.length);
      expect(cold.subarray(4096, 4103).toString()).toBe('bit rot');
    } finally {
      await card.close();
    }
  });

  it.skipIf(!LOOP_AVAILABLE)('refuses the file behind a loop device as a target', async () => {
    await expect(inspectTarget(backing, REAL_ROOTS)).rejects.toMatchObject({ code: 'AGENT_TARGET_MOUNTED' });
  });
});
