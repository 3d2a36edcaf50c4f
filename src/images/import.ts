import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FatError } from '../lib/fat/index.js';
import { PRIVATE_FILE_MODE } from '../lib/private-dir.js';
import type { ImageSourceFormat } from '../protocol/images.js';
import { DEFAULT_CHUNK_SIZE_BYTES, type ImageLayout } from '../protocol/manifest.js';
import { analyseImage } from './analyse.js';
import { overlapsAny } from '../lib/disk/index.js';
import { createChunkPacker, unpackChunk } from './chunk-codec.js';
import { createChunkReader } from './chunk-reader.js';
import type { ChunkStore, Staging } from './chunk-store.js';
import { createChunker } from './chunker.js';
import { byteCounter, decoderFor, openSource, type Decoder, type ImportSource } from './decode.js';
import { ImageError, storeChanged } from './errors.js';
import type { SanitiseReport } from '../protocol/sanitise.js';
import type { SanitiseOptions } from './sanitise.js';
import { openZipImage } from './zip.js';

/** Where an import is, reported a few times a second; `totalBytes` is null when unknown. */
export interface ImportProgress {
  /** receiving: an uploaded zip is saved before it can be opened; reading: decoding, cutting and storing chunks. */
  phase: 'receiving' | 'reading' | 'sanitising' | 'analysing' | 'storing';
  doneBytes: number;
  totalBytes: number | null;
}

/** Progress and cancellation for one import, and whether to sanitise the image first. */
export interface ImportOptions {
  onProgress?: (progress: ImportProgress) => void;
  signal?: AbortSignal;
  /** Reset the golden board's identity (sanitiseImage) before the manifest is made; off when absent. */
  sanitise?: SanitiseOptions;
  /** What sanitising did, once it is done (before the image is stored). */
  onSanitised?: (report: SanitiseReport) => void;
  /**
   * Chunks already compressed and checked (a capture's uploads): raw SHA-256 → a file holding one
   * zstd frame, with its checksum, of those raw bytes. A chunk of the image with one of these hashes
   * is stored from its file instead of being compressed again.
   */
  knownChunks?: ReadonlyMap<string, string>;
  /** How many of the image's chunks were compressed, and how many taken from `knownChunks`. */
  onChunked?: (counts: { chunksCompressed: number; chunksReused: number }) => void;
}

/** An image fully staged and analysed, waiting to be registered. */
export interface StagedImage {
  layout: ImageLayout;
  sourceName: string;
  sourceFormat: ImageSourceFormat;
}

const PROGRESS_EVERY_MS = 250;

function progressBeat(
  phase: ImportProgress['phase'],
  totalBytes: number | null,
  onProgress?: (p: ImportProgress) => void,
) {
  let done = 0;
  let last = 0;
  return {
    add: (n: number) => {
      done += n;
      const now = Date.now();
      if (onProgress && now - last >= PROGRESS_EVERY_MS) {
        last = now;
        onProgress({ phase, doneBytes: done, totalBytes });
      }
    },
    end: () => onProgress?.({ phase, doneBytes: done, totalBytes: totalBytes ?? done }),
  };
}

/** Turns whatever stopped the pipeline into the one error an operator should see. */
function explain(
  e: unknown,
  o: {
    format: ImageSourceFormat;
    name: string;
    decoder: Decoder | null;
    sourceFailure: Error | null;
    signal?: AbortSignal | undefined;
    storeRoot: string;
  },
): Error {
  if (o.signal?.aborted)
    return new ImageError(
      'IMAGE_IMPORT_ABORTED',
      `Import of ${o.name} was cancelled; nothing was imported`,
      { source: o.name },
      { cause: e },
    );
  if (e instanceof ImageError) return e;
  const err = e as NodeJS.ErrnoException;
  const storeFailed = () =>
    new ImageError(
      'IMAGE_STORE_FAILED',
      `Writing the image store in ${o.storeRoot} failed (${err.message}); free some space and import again`,
      { root: o.storeRoot },
      { cause: e },
    );
  // Before the source and the decoder: the pipeline torn down by a full disk cuts the upload and
  // breaks the decoder's pipe too, and their complaints would hide the one thing to fix.
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') return storeFailed();
  if (o.sourceFailure) {
    return new ImageError(
      'IMAGE_FILE_UNREADABLE',
      `Reading ${o.name} failed (${o.sourceFailure.message}); nothing was imported`,
      { source: o.name },
      { cause: o.sourceFailure },
    );
  }
  const failure = o.decoder?.failure();
  if (failure instanceof ImageError) return failure;
  if (failure) {
    return new ImageError(
      'IMAGE_INPUT_CORRUPT',
      `${o.name} is not a whole ${o.format} file (${failure.message}); nothing was imported: check the download and try again`,
      { source: o.name, format: o.format },
      { cause: failure },
    );
  }
  if (err.syscall === 'write' || err.syscall === 'rename') return storeFailed();
  return err;
}

/** A chunk this import found already stored; another import's image may have been deleted since. */
async function readShared(store: ChunkStore, sha256: string): Promise<Buffer> {
  try {
    return await store.readChunk(sha256);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw storeChanged(sha256, e);
  }
}

/**
 * Decodes a source (by its magic bytes) into `sink`: the chunker, or a raw file to sanitise first.
 * Every failure becomes the one error an operator should see (explain()).
 */
async function decodeInto(
  source: ImportSource,
  sink: Writable,
  staging: Staging,
  storeRoot: string,
  options: ImportOptions,
): Promise<{ name: string; format: ImageSourceFormat }> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const opened = await openSource(source);
  const { format, name } = opened;
  let decoder: Decoder | null = null;
  let sourceFailure: Error | null = null;
  opened.stream.once('error', (e: Error) => (sourceFailure = e));
  const context = { format, name, signal, storeRoot };
  try {
    const stages: (Readable | Writable)[] = [];
    if (format === 'zip') {
      let zipPath = opened.path;
      if (!zipPath) {
        // A zip is read from its central directory at the end, so an upload is saved first.
        zipPath = join(staging.dir, 'upload.zip');
        const received = progressBeat('receiving', opened.sizeBytes, onProgress);
        await pipeline(
          opened.stream,
          byteCounter(received.add),
          createWriteStream(zipPath, { mode: PRIVATE_FILE_MODE }),
          { signal },
        );
        received.end();
      } else {
        opened.stream.destroy();
      }
      const zip = await openZipImage(zipPath);
      try {
        const read = progressBeat('reading', zip.sizeBytes, onProgress);
        await pipeline(await zip.open(), byteCounter(read.add), sink, { signal });
        read.end();
      } finally {
        zip.close();
      }
    } else {
      const read = progressBeat('reading', opened.sizeBytes, onProgress);
      stages.push(opened.stream, byteCounter(read.add));
      if (format !== 'img') {
        decoder = decoderFor(format);
        stages.push(decoder.stream);
      }
      await pipeline([...stages, sink] as unknown as [Readable, Writable], { signal });
      await decoder?.finished();
      read.end();
    }
  } catch (e) {
    decoder?.kill();
    opened.stream.destroy();
    throw explain(e, { ...context, decoder, sourceFailure });
  }
  return { name, format };
}

/**
 * Writes a source's raw image, decoded, to `path` (in staging): what sanitising changes before
 * the image is cut into chunks. Says what the source was, for the record.
 */
export function decodeToFile(
  source: ImportSource,
  path: string,
  store: ChunkStore,
  staging: Staging,
  options: ImportOptions = {},
): Promise<{ name: string; format: ImageSourceFormat }> {
  return decodeInto(source, createWriteStream(path, { mode: PRIVATE_FILE_MODE }), staging, store.root, options);
}

/**
 * Streams a source into `staging`: decode by magic bytes, cut into chunks, store each distinct
 * chunk compressed, hash the raw image, then analyse it from the staged chunks and mark which
 * chunks are used. Never holds more than a few chunks in memory; registers nothing. `origin`
 * names the source in the record when `source` is a decoded copy of it.
 */
export async function stageImage(
  source: ImportSource,
  store: ChunkStore,
  staging: Staging,
  options: ImportOptions = {},
  origin?: { name: string; format: ImageSourceFormat },
): Promise<StagedImage> {
  const { signal, onProgress } = options;
  const known = options.knownChunks;
  const packer = createChunkPacker({ known: known?.keys() });
  const chunker = createChunker({ chunkSizeBytes: DEFAULT_CHUNK_SIZE_BYTES, packer, store, staging, known });
  let decoded;
  try {
    decoded = await decodeInto(source, chunker, staging, store.root, options);
  } finally {
    await packer.close();
  }
  const { name, format } = origin ?? decoded;

  const cut = chunker.result();
  options.onChunked?.({ chunksCompressed: cut.chunksCompressed, chunksReused: cut.chunksReused });
  if (cut.sizeBytes === 0)
    throw new ImageError('IMAGE_INPUT_EMPTY', `${name} holds no image bytes; nothing was imported`, { source: name });
  onProgress?.({ phase: 'analysing', doneBytes: 0, totalBytes: null });
  const reader = createChunkReader({
    sizeBytes: cut.sizeBytes,
    chunkSizeBytes: DEFAULT_CHUNK_SIZE_BYTES,
    chunks: cut.chunks,
    load: async (sha256) =>
      unpackChunk(staging.hasChunk(sha256) ? await staging.readChunk(sha256) : await readShared(store, sha256)),
  });
  let analysis;
  try {
    analysis = await analyseImage(reader, { name, format });
  } catch (e) {
    if (!(e instanceof FatError)) throw e;
    throw new ImageError(
      'IMAGE_INPUT_CORRUPT',
      `The FAT boot partition of ${name} is damaged (${e.message}); nothing was imported`,
      { source: name },
      { cause: e },
    );
  }
  signal?.throwIfAborted();
  const chunks = cut.chunks.map((c) => ({ ...c, used: overlapsAny(analysis.usedRanges, c.offsetBytes, c.sizeBytes) }));
  return {
    layout: {
      sizeBytes: cut.sizeBytes,
      sha256: cut.sha256,
      chunkSizeBytes: DEFAULT_CHUNK_SIZE_BYTES,
      chunks,
      ...analysis,
    },
    sourceName: name,
    sourceFormat: format,
  };
}
