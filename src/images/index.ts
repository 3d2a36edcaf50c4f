export { createImageService, IMAGE_STORE_DIR, type ImageService, type ProductCatalog } from './images.service.js';
export type { ImportSource } from './decode.js';
export type { ImportOptions, ImportProgress } from './import.js';
export type { ByteStream, ChunkBytes } from './image-reader.js';
export { IMAGE_ERROR_KINDS, ImageError, type ImageErrorCode } from './errors.js';
export { cachedManifests, type ManifestSource } from './manifest-cache.js';
export { createCaptureService, CAPTURE_DIR, type CaptureService, type SanitiseImage } from './captures.service.js';
export { sanitiseImage, type SanitiseOptions } from './sanitise.js';
export {
  SANITISE_STEPS,
  type SanitiseReport,
  type SanitiseStep,
  type SanitiseStepResult,
} from '../protocol/sanitise.js';
