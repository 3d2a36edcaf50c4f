import { resolveInside } from '../../lib/safe-path.js';
import { readCachedFile, type BytesCache } from './file-cache.js';

/** Kernel, device trees and overlays by their name in a Pi boot partition (`overlays/x.dtbo`). */
export interface BootFirmware {
  /** The file's bytes; undefined when there is no such file. Throws `SafePathError` for a path out of the root. */
  read(name: string): Promise<Buffer | undefined>;
}

/**
 * Boot files from a directory laid out like a Pi's FAT partition (`netboot.tftp.bootFilesDir`).
 * Every name goes through safe-path (R15), so a symlink pointing out of the directory is refused.
 */
export function directoryFirmware(dir: string, cache: BytesCache): BootFirmware {
  return {
    async read(name) {
      try {
        return await readCachedFile(cache, await resolveInside(dir, name));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
        throw err;
      }
    },
  };
}

/** What the image store offers: the image to boot from, and files of its FAT boot partition. */
export interface BootImages {
  /** The image whose boot partition boards boot from now; undefined when none is active. */
  current(): Promise<{ id: number; sha256: string } | undefined>;
  /** The file's bytes, undefined if the partition has no such file. */
  readBootFile(id: number, name: string): Promise<Buffer | undefined>;
}

/**
 * Boot files from the active image's own FAT boot partition (DESIGN §1.3: no separate firmware
 * download). Images never change once stored, so a file is cached by the image's hash.
 */
export function imageFirmware(images: BootImages, cache: BytesCache): BootFirmware {
  return {
    async read(name) {
      const image = await images.current();
      if (!image) return undefined;
      return cache.get(`image:${image.sha256}:${name}`, () => images.readBootFile(image.id, name));
    },
  };
}
