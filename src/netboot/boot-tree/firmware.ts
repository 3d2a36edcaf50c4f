import { resolveInside } from '../../lib/safe-path.js';
import type { FileCache } from './file-cache.js';

/** Kernel, device trees and overlays by their name in a Pi boot partition (`overlays/x.dtbo`). */
export interface BootFirmware {
  /** The file's bytes; undefined when there is no such file. Throws `SafePathError` for a path out of the root. */
  read(name: string): Promise<Buffer | undefined>;
}

/**
 * Boot files from a directory laid out like a Pi's FAT partition (`netboot.tftp.bootFilesDir`).
 * Every name goes through safe-path (R15), so a symlink pointing out of the directory is refused.
 */
export function directoryFirmware(dir: string, cache: FileCache): BootFirmware {
  return {
    async read(name) {
      try {
        return await cache.read(await resolveInside(dir, name));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
        throw err;
      }
    },
  };
}
