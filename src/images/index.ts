export { createImageService, type ImageService, type ImageFileInput, type ProductCatalog } from './images.service.js';
export { ImageError, type ImageErrorCode } from './errors.js';
export type { ProgressListener } from './file-digest.js';
