import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small filesystem of its own (tmpfs, so filling it touches no real disk), to run out of space on purpose. */
export interface SmallDisk {
  path: string;
  freeBytes(): number;
  /** Fills it with a filler file until writes fail with ENOSPC, leaving about `leaveBytes` free. */
  fill(leaveBytes?: number): void;
  /** Deletes the filler: the space is back. */
  free(): void;
  unmount(): void;
}

const FILL_BLOCK_BYTES = 1024 * 1024;

/** Mounts a tmpfs of `sizeMiB` on a fresh directory (needs root); unmount() removes both. */
export function mountSmallDisk(sizeMiB: number): SmallDisk {
  const path = mkdtempSync(join(tmpdir(), 'rpi-deploy-small-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', path]);
  const filler = join(path, 'filler');
  const freeBytes = () => {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  };
  return {
    path,
    freeBytes,
    fill(leaveBytes = 0) {
      const fd = openSync(filler, 'a');
      try {
        const block = Buffer.alloc(FILL_BLOCK_BYTES, 0x5a);
        for (let free = freeBytes(); free > leaveBytes; free = freeBytes()) {
          writeSync(fd, block, 0, Math.min(block.length, Math.max(4096, free - leaveBytes)));
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
    unmount() {
      execFileSync('umount', [path]);
      rmdirSync(path);
    },
  };
}
