import { BoundedMap } from '../lib/bounded-map.js';
import type { ImageService } from './images.service.js';
import type { Manifest } from '../protocol/manifest.js';

/** How many manifests stay in memory: a station serves a handful of images at a time. */
const MANIFESTS_KEPT = 8;

export type ManifestSource = (imageId: number) => Promise<Manifest>;

/**
 * Manifests by image id, kept in memory: every chunk request needs its image's chunk table, and
 * a registered image never changes (its bytes are named by their hash) and image ids are never
 * reused (AUTOINCREMENT). Failures are not kept.
 */
export function cachedManifests(images: Pick<ImageService, 'manifest'>): ManifestSource {
  const kept = new BoundedMap<number, Promise<Manifest>>(MANIFESTS_KEPT);
  return (imageId) => {
    let m = kept.get(imageId);
    if (m) return m;
    m = images.manifest(imageId);
    m.catch(() => kept.delete(imageId));
    kept.set(imageId, m);
    return m;
  };
}
