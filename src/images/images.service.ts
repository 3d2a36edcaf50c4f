import { resolve } from 'node:path';
import { checkSchema } from '../lib/validate.js';
import { ImageRecordInput, type Image } from '../protocol/images.js';
import type { Store } from '../store/index.js';
import { ImageError } from './errors.js';
import { digestFile, type ProgressListener } from './file-digest.js';
import { deleteImage, findActiveImage, findImage, findImageBySha, findImageByVersion, insertImage, listImages, setActiveImage } from './images.repo.js';

/** What images needs to know about products: that one exists, under its canonical code. */
export interface ProductCatalog {
  get(code: string): Promise<{ code: string }>;
}

export interface ImageFileInput {
  file: string;
  product: string;
  version: string;
  notes?: string | null | undefined;
}

export interface ImageService {
  /** Records an image whose bytes are already in place; the same bytes twice is refused. */
  register(input: ImageRecordInput): Promise<Image>;
  /** Hashes a file on disk and records it (the bytes stay where they are). */
  addFile(input: ImageFileInput, onProgress?: ProgressListener): Promise<Image>;
  list(filter?: { product?: string | undefined }): Promise<Image[]>;
  get(id: number): Promise<Image>;
  /** The image boards of this product receive, if one is active (none for an unknown product). */
  active(product: string): Promise<Image | undefined>;
  activate(id: number): Promise<Image>;
  deactivate(id: number): Promise<Image>;
  /** Refuses the active image unless `force`: boards of that product would have nothing to write. */
  remove(id: number, options?: { force?: boolean }): Promise<void>;
}

export function createImageService(deps: { store: Store; products: ProductCatalog; clock?: () => Date }): ImageService {
  const { store, products } = deps;
  const now = () => (deps.clock ?? (() => new Date()))().toISOString();

  async function get(id: number): Promise<Image> {
    const image = await findImage(store.db, id);
    if (!image) throw new ImageError('IMAGE_UNKNOWN', `Image ${id} does not exist; list images with: rpi-deploy image list`, { imageId: id });
    return image;
  }

  async function register(input: ImageRecordInput): Promise<Image> {
    const r = checkSchema(ImageRecordInput, input, (p) => {
      throw new ImageError('IMAGE_INPUT_INVALID', `${p.path} ${p.message}`, { field: p.path });
    });
    const { code: product } = await products.get(r.product);
    return store.transaction(async (tx) => {
      const same = await findImageBySha(tx, r.sha256);
      if (same) {
        throw new ImageError('IMAGE_DUPLICATE', `These bytes are already registered as ${same.product} ${same.version} (image ${same.id}); nothing was added`, {
          imageId: same.id,
        });
      }
      const clash = await findImageByVersion(tx, product, r.version);
      if (clash) throw new ImageError('IMAGE_DUPLICATE', `${product} ${r.version} already exists (image ${clash.id}); pick another --version`, { imageId: clash.id });
      return insertImage(tx, {
        product_code: product,
        version: r.version,
        file_ref: r.fileRef,
        size_bytes: r.sizeBytes,
        sha256: r.sha256,
        active: 0,
        notes: r.notes?.trim() || null,
        created_at: now(),
      });
    });
  }

  return {
    register,

    async addFile(input, onProgress) {
      const file = resolve(input.file);
      const { sizeBytes, sha256 } = await digestFile(file, onProgress);
      return register({ product: input.product, version: input.version, fileRef: file, sizeBytes, sha256, notes: input.notes ?? null });
    },

    list: async (filter = {}) => listImages(store.db, filter.product ? (await products.get(filter.product)).code : undefined),
    get,
    active: (product) => findActiveImage(store.db, product.trim().toUpperCase()),

    async activate(id) {
      const image = await get(id);
      await store.transaction((tx) => setActiveImage(tx, image.product, id));
      return get(id);
    },

    async deactivate(id) {
      const image = await get(id);
      if (image.active) await store.transaction((tx) => setActiveImage(tx, image.product, null));
      return get(id);
    },

    async remove(id, options = {}) {
      const image = await get(id);
      if (image.active && !options.force) {
        throw new ImageError('IMAGE_ACTIVE', `Image ${id} is the active ${image.product} image; activate another one first or delete with --force`, { imageId: id });
      }
      await store.transaction((tx) => deleteImage(tx, id));
    },
  };
}
