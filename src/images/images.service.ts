import { join } from 'node:path';
import { checkSchema } from '../lib/validate.js';
import { ImageImportInput, imageFileName, type Image } from '../protocol/images.js';
import { MANIFEST_FORMAT, type ByteRange, type ImageLayout, type Manifest } from '../protocol/manifest.js';
import type { ImageDiff } from '../protocol/image-diff.js';
import type { Db, Store } from '../store/index.js';
import { diffImages } from './diff.js';
import { createChunkUnpacker } from './chunk-codec.js';
import { openChunkStore, type ChunkStore, type Staging } from './chunk-store.js';
import type { ImportSource } from './decode.js';
import { ImageError, storeChanged } from './errors.js';
import { createImageReader, type ByteStream, type ChunkBytes } from './image-reader.js';
import { decodeToFile, stageImage, type ImportOptions, type StagedImage } from './import.js';
import { sanitiseImage, type SanitiseOptions } from './sanitise.js';
import {
  deleteImage,
  findActiveImage,
  findImage,
  findImageBySha,
  findImageByVersion,
  findManifestFile,
  insertImage,
  listImages,
  listManifestFiles,
  setActiveImage,
} from './images.repo.js';

/** What images needs to know about products: that one exists, under its canonical code. */
export interface ProductCatalog {
  get(code: string): Promise<{ code: string }>;
}

/** Master images: import, records, and what other components read from the store. */
export interface ImageService {
  /**
   * Imports an image (raw, xz, gzip, zstd or a zip holding one `.img`, told by its first bytes)
   * into the chunk store and registers it in one transaction; the same raw bytes twice, or a
   * version the product already has, is refused. A failed or cancelled import leaves nothing.
   * With `options.sanitise` the decoded image is first written whole to staging (the store needs
   * room for it) and sanitised there (sanitiseImage).
   */
  import(source: ImportSource, input: ImageImportInput, options?: ImportOptions): Promise<Image>;
  list(filter?: { product?: string | undefined }): Promise<Image[]>;
  get(id: number): Promise<Image>;
  /** An image by id (`12`) or by product and version (`KXP2@1.1.0`), as operators name them. */
  resolve(ref: string): Promise<Image>;
  /** The image boards of this product receive, if one is active (none for an unknown product). */
  active(product: string): Promise<Image | undefined>;
  /** The image published as `GET /images/<fileName>` (see imageFileName). */
  findByFileName(fileName: string): Promise<Image | undefined>;
  activate(id: number): Promise<Image>;
  deactivate(id: number): Promise<Image>;
  /** Refuses the active image unless `force`: boards of that product would have nothing to write. */
  remove(id: number, options?: { force?: boolean }): Promise<void>;
  /** What a board needs to write the image. */
  manifest(id: number): Promise<Manifest>;
  /** How image `toId` differs from `fromId`: chunks, bytes and the files whose blocks changed (diffImages). */
  diff(fromId: number, toId: number): Promise<ImageDiff>;
  /**
   * One stored chunk's compressed bytes (a range of them, to resume), by the SHA-256 of its raw
   * bytes; read whole with `storedSha256`, they are checked against it first.
   */
  readChunk(sha256: string, range?: ByteRange, storedSha256?: string): Promise<ChunkBytes>;
  /** The raw image (or a range of it) rebuilt from its chunks, each checked against its hash. */
  openRaw(id: number, range?: ByteRange): Promise<ByteStream>;
  /** A file from the image's FAT boot partition, e.g. `kernel_2712.img` or `overlays/bcm2712d0.dtbo`. */
  readBootFile(id: number, path: string): Promise<Buffer>;
  /**
   * Run at start: removes what killed imports left in staging and any chunk or manifest that no
   * record refers to (an import killed between moving its files and committing).
   */
  recover(): Promise<{ stagingRemoved: number; filesRemoved: number }>;
  /**
   * Images on record whose stored files are not there (a backup restored without --with-images):
   * boards cannot be given them until each is imported again from its image file.
   */
  withoutFiles(): Promise<Image[]>;
  /** Stops the worker threads that decompress chunks for raw reads. */
  close(): Promise<void>;
}

/** Chunks each side of a diff keeps decompressed: inode tables and directories cluster near each other. */
const DIFF_CACHE_CHUNKS = 16;

/** Where the image store lives inside the data directory. */
export const IMAGE_STORE_DIR = 'images';

/** Opens the store under `<dataDir>/images`; call recover() before serving. */
export async function createImageService(deps: {
  store: Store;
  products: ProductCatalog;
  dataDir: string;
  clock?: () => Date;
}): Promise<ImageService> {
  const { store, products } = deps;
  const now = () => (deps.clock ?? (() => new Date()))().toISOString();
  const chunks: ChunkStore = await openChunkStore(join(deps.dataDir, IMAGE_STORE_DIR));
  const unpacker = createChunkUnpacker();
  const reader = createImageReader(chunks, unpacker);

  async function get(id: number): Promise<Image> {
    const image = await findImage(store.db, id);
    if (!image)
      throw new ImageError('IMAGE_UNKNOWN', `Image ${id} does not exist; list images with: rpi-deploy image list`, {
        imageId: id,
      });
    return image;
  }

  async function layoutOf(id: number): Promise<ImageLayout> {
    const file = await findManifestFile(store.db, id);
    if (!file)
      throw new ImageError('IMAGE_UNKNOWN', `Image ${id} does not exist; list images with: rpi-deploy image list`, {
        imageId: id,
      });
    if (!chunks.hasManifest(file)) throw filesMissing(await get(id));
    return reader.layout(file);
  }

  async function hasFiles(db: Db, id: number): Promise<boolean> {
    const file = await findManifestFile(db, id);
    return file !== undefined && chunks.hasManifest(file);
  }

  /**
   * A version on record is free to import again only when its files are missing and the bytes are
   * its own (`sha256`, once known): that brings its files back.
   */
  async function checkVersionFree(db: Db, product: string, version: string, sha256?: string): Promise<void> {
    const clash = await findImageByVersion(db, product, version);
    if (!clash) return;
    const restorable = !(await hasFiles(db, clash.id));
    if (restorable && (sha256 === undefined || sha256 === clash.sha256)) return;
    throw new ImageError(
      'IMAGE_DUPLICATE',
      restorable
        ? `${product} ${version} (image ${clash.id}) was imported from other bytes (SHA-256 ${clash.sha256}); ` +
            'import that file to bring its files back, or pick another --version'
        : `${product} ${version} already exists (image ${clash.id}); pick another --version`,
      { imageId: clash.id },
    );
  }

  /**
   * Deletes every stored file no record refers to. Runs inside a transaction, like registration.
   * While a recorded manifest is missing, which chunks it needs is unknown, so every chunk stays.
   */
  async function sweep(db: Db): Promise<number> {
    const manifests = await listManifestFiles(db);
    const keep = new Set<string>();
    let complete = true;
    for (const file of manifests) {
      if (!chunks.hasManifest(file)) complete = false;
      else for (const c of (await reader.layout(file)).chunks) keep.add(c.sha256);
    }
    return chunks.sweep({ chunks: complete ? keep : 'all', manifests: new Set(manifests) });
  }

  /** Decodes the source to a raw file in staging, sanitises that, then stages it as the source. */
  async function sanitisedStage(
    source: ImportSource,
    staging: Staging,
    options: ImportOptions,
    sanitise: SanitiseOptions,
  ): Promise<StagedImage> {
    const raw = join(staging.dir, 'sanitise.img');
    const origin = await decodeToFile(source, raw, chunks, staging, options);
    options.onProgress?.({ phase: 'sanitising', doneBytes: 0, totalBytes: null });
    options.onSanitised?.(await sanitiseImage(raw, sanitise));
    return stageImage({ path: raw }, chunks, staging, options, origin);
  }

  /** One transaction: duplicate checks, staged files moved into the store, the record written. */
  function register(staged: StagedImage, staging: Staging, product: string, input: ImageImportInput): Promise<Image> {
    const { layout } = staged;
    return store.transaction(async (tx) => {
      const same = await findImageBySha(tx, layout.sha256);
      if (same && same.product === product && same.version === input.version && !(await hasFiles(tx, same.id))) {
        // The record is kept (deployments refer to it); only its files come back.
        await staging.writeManifest(layout.sha256, JSON.stringify(layout));
        await staging.publish();
        if (!input.activate) return same;
        await setActiveImage(tx, product, same.id);
        return { ...same, active: true };
      }
      if (same) {
        throw new ImageError(
          'IMAGE_DUPLICATE',
          `These bytes are already stored as ${same.product} ${same.version} (image ${same.id}); nothing was added`,
          { imageId: same.id },
        );
      }
      await checkVersionFree(tx, product, input.version, layout.sha256);
      for (const c of layout.chunks) {
        if (!staging.hasChunk(c.sha256) && !chunks.hasChunk(c.sha256)) throw storeChanged(c.sha256);
      }
      await staging.writeManifest(layout.sha256, JSON.stringify(layout));
      await staging.publish();
      const image = await insertImage(tx, {
        product_code: product,
        version: input.version,
        sha256: layout.sha256,
        size_bytes: layout.sizeBytes,
        chunk_count: layout.chunks.length,
        stored_bytes: storedBytes(layout),
        used_bytes: layout.usedBytes,
        os_generation: layout.boot?.osGeneration ?? 'unknown',
        manifest_file: chunks.manifestFile(layout.sha256),
        source_name: staged.sourceName,
        source_format: staged.sourceFormat,
        active: 0,
        notes: input.notes?.trim() || null,
        created_at: now(),
      });
      if (!input.activate) return image;
      await setActiveImage(tx, product, image.id);
      return { ...image, active: true };
    });
  }

  return {
    async import(source, input, options = {}) {
      const meta = checkSchema(ImageImportInput, input, (p) => {
        throw new ImageError('IMAGE_INPUT_INVALID', `${p.path} ${p.message}`, { field: p.path });
      });
      const { code: product } = await products.get(meta.product);
      // Refused before reading gigabytes; checked again when registering.
      await checkVersionFree(store.db, product, meta.version);
      const staging = await chunks.createStaging();
      try {
        const staged = options.sanitise
          ? await sanitisedStage(source, staging, options, options.sanitise)
          : await stageImage(source, chunks, staging, options);
        options.onProgress?.({ phase: 'storing', doneBytes: 0, totalBytes: null });
        return await register(staged, staging, product, meta);
      } finally {
        await staging.remove();
      }
    },

    list: async (filter = {}) =>
      listImages(store.db, filter.product ? (await products.get(filter.product)).code : undefined),
    get,
    async resolve(ref) {
      const at = ref.lastIndexOf('@');
      if (at < 0) {
        if (!/^\d+$/.test(ref.trim()))
          throw new ImageError('IMAGE_INPUT_INVALID', `"${ref}" names no image: give an id or PRODUCT@VERSION`, {
            ref,
          });
        return get(Number(ref));
      }
      const { code } = await products.get(ref.slice(0, at));
      const version = ref.slice(at + 1);
      const image = await findImageByVersion(store.db, code, version);
      if (!image)
        throw new ImageError(
          'IMAGE_UNKNOWN',
          `${code} has no image ${version}; list them with: rpi-deploy image list --product ${code}`,
          { product: code, version },
        );
      return image;
    },
    active: (product) => findActiveImage(store.db, product.trim().toUpperCase()),
    findByFileName: async (fileName) => (await listImages(store.db)).find((i) => imageFileName(i) === fileName),

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
        throw new ImageError(
          'IMAGE_ACTIVE',
          `Image ${id} is the active ${image.product} image; activate another one first or delete with --force`,
          { imageId: id },
        );
      }
      await store.transaction(async (tx) => {
        await deleteImage(tx, id);
        await sweep(tx);
      });
    },

    async manifest(id) {
      const image = await get(id);
      return {
        format: MANIFEST_FORMAT,
        imageId: image.id,
        product: image.product,
        version: image.version,
        ...(await layoutOf(id)),
      };
    },
    async diff(fromId, toId) {
      const sides = await Promise.all(
        [fromId, toId].map(async (id) => {
          const layout = await layoutOf(id);
          return { image: await get(id), layout, device: reader.device(layout, DIFF_CACHE_CHUNKS) };
        }),
      );
      return diffImages(sides[0]!, sides[1]!);
    },
    readChunk: (sha256, range, storedSha256) => reader.readChunk(sha256, range, storedSha256),
    openRaw: async (id, range) => reader.openRaw(await layoutOf(id), range),
    readBootFile: async (id, path) => reader.readBootFile(await layoutOf(id), path),

    close: () => unpacker.close(),

    async recover() {
      const stagingRemoved = await chunks.removeDeadStaging();
      const filesRemoved = await store.transaction((tx) => sweep(tx));
      return { stagingRemoved, filesRemoved };
    },

    async withoutFiles() {
      const missing: Image[] = [];
      for (const image of await listImages(store.db)) if (!(await hasFiles(store.db, image.id))) missing.push(image);
      return missing;
    },
  };
}

/** What boards and operators get for an image whose stored files are gone, with the command that brings them back. */
function filesMissing(image: Image): ImageError {
  return new ImageError(
    'IMAGE_FILES_MISSING',
    `Image ${image.id} (${image.product} ${image.version}) has no stored files (restored from a backup taken without ` +
      `--with-images?); import its image file again: rpi-deploy image add FILE --product ${image.product} ` +
      `--version ${image.version}`,
    { imageId: image.id },
  );
}

/** Compressed bytes of an image's distinct chunks. */
function storedBytes(layout: ImageLayout): number {
  const seen = new Map(layout.chunks.map((c) => [c.sha256, c.storedBytes]));
  return [...seen.values()].reduce((a, b) => a + b, 0);
}
