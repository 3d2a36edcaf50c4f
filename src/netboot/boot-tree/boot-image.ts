import type { Fleet } from '../../fleet/index.js';
import { ImageError, type ImageService } from '../../images/index.js';
import type { BootImages } from './firmware.js';

/**
 * The image boards boot from: the active image of the batch that names the next board (highest
 * priority, then oldest), else the newest active image. Every Raspberry Pi OS image carries the
 * same Pi 5 kernel and firmware files, so any active one boots stage 1.
 */
export function activeBootImage(deps: {
  fleet: Pick<Fleet, 'batches'>;
  images: Pick<ImageService, 'list' | 'active' | 'readBootFile'>;
}): BootImages {
  return {
    async current() {
      const batches = (await deps.fleet.batches.list({ status: 'active' })).sort(
        (a, b) => b.priority - a.priority || a.id - b.id,
      );
      for (const batch of batches) {
        const image = await deps.images.active(batch.product);
        if (image) return image;
      }
      return (await deps.images.list())
        .filter((i) => i.active)
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    },
    async readBootFile(id, name) {
      try {
        return await deps.images.readBootFile(id, name);
      } catch (err) {
        if (
          err instanceof ImageError &&
          (err.code === 'IMAGE_BOOT_FILE_UNKNOWN' || err.code === 'IMAGE_NO_BOOT_PARTITION')
        )
          return undefined;
        throw err;
      }
    },
  };
}
