import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createEmit, type EventBus } from '../lib/event-bus.js';
import { ifMissing } from '../lib/if-missing.js';
import type { Logger } from '../lib/logger.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../lib/private-dir.js';
import { checkSchema } from '../lib/validate.js';
import { CaptureRequestInput, type Capture, type CaptureResult, type CaptureStatus } from '../protocol/capture.js';
import type { SanitiseStep } from '../protocol/sanitise.js';
import type { FleetEvent, FleetEvents } from '../protocol/events.js';
import { DEFAULT_CHUNK_SIZE_BYTES } from '../protocol/manifest.js';
import type { Store } from '../store/index.js';
import { createChunkUnpacker } from './chunk-codec.js';
import {
  addReceived,
  findCapture,
  findCaptureByToken,
  findOpenCapture,
  insertCapture,
  listCaptures,
  OPEN_CAPTURE_STATUSES,
  updateCapture,
} from './captures.repo.js';
import { ImageError } from './errors.js';
import { findImageByVersion } from './images.repo.js';
import type { ImageService, ProductCatalog } from './images.service.js';

/** Removes a captured board's identity from a raw image file before it is imported (issue 14, images14). */
export type SanitiseImage = (path: string, options: { keep: readonly SanitiseStep[] }) => Promise<unknown>;

/** Capture requests, the chunks boards upload for them, and the image versions assembled from those. */
export interface CaptureService {
  /** An operator marks a board: its next enroll captures its card into `product` `version`. */
  request(input: CaptureRequestInput): Promise<Capture>;
  list(filter?: { status?: CaptureStatus | undefined }): Promise<Capture[]>;
  get(id: number): Promise<Capture>;
  /** Cancels a capture the board has not finished uploading; its chunks are deleted. */
  cancel(id: number): Promise<Capture>;
  /**
   * At enroll: the board's open capture (pending, or capturing again after a restart), now
   * capturing under a new token; undefined when the board is not marked.
   */
  claim(serial: string): Promise<{ capture: Capture; token: string; chunkSizeBytes: number } | undefined>;
  /** The capture a board's token speaks for, while it is capturing. */
  authenticate(token: string): Promise<Capture | undefined>;
  /** Raw SHA-256 of each chunk already received: what a resuming board skips. */
  storedChunks(id: number): Promise<string[]>;
  /**
   * Keeps one uploaded chunk after checking it: `body` must hash to `storedSha256`, decompress
   * (zstd frame checksum), and decompress to `sha256` within the chunk size. Nothing is kept otherwise.
   * With its `index` (where the board read it), its raw bytes go into the image file at once.
   */
  receiveChunk(id: number, sha256: string, storedSha256: string, body: Buffer, index?: number): Promise<void>;
  /**
   * The board's last word: success starts assembly (in the background); failed puts the capture
   * back to pending with the board's reason, to resume at its next enroll (or be cancelled).
   */
  finish(id: number, result: CaptureResult): Promise<Capture>;
  /** Resolves once a background assembly of `id` (if any runs) has ended. */
  settled(id: number): Promise<void>;
  /** At start: assemblies a stopped server left unfinished run again. */
  recover(): Promise<void>;
  close(): Promise<void>;
}

/** Where uploaded chunks wait for assembly, under the data directory. */
export const CAPTURE_DIR = 'captures';
/** zstd never grows a chunk by more than a few hundred bytes; a body larger than this is not a chunk. */
const CHUNK_BODY_SLACK_BYTES = 64 * 1024;
const ASSEMBLE_PARALLEL = 4;
const PROGRESS_EVERY_MS = 250;
const ERROR_TEXT_MAX = 2000;

interface Layout {
  sizeBytes: number;
  chunks: { index: number; sha256: string }[];
}

const tokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export function createCaptureService(deps: {
  store: Store;
  images: ImageService;
  products: ProductCatalog;
  /** Canonical form of a board serial (the fleet's); throws for one that is not. */
  parseSerial: (serial: string) => string;
  sanitise: SanitiseImage;
  events: EventBus<FleetEvent>;
  dataDir: string;
  log: Logger;
  clock?: () => Date;
}): CaptureService {
  const { store } = deps;
  const clock = deps.clock ?? (() => new Date());
  const now = () => clock().toISOString();
  const emit = createEmit<FleetEvents>(deps.events, clock);
  const root = join(deps.dataDir, CAPTURE_DIR);
  const unpacker = createChunkUnpacker();
  const running = new Map<number, Promise<void>>();
  const lastProgress = new Map<number, number>();
  const dirOf = (id: number) => join(root, String(id));
  const chunkFile = (id: number, sha256: string) => join(dirOf(id), `${sha256}.zst`);
  const imageFile = (c: Capture) => join(dirOf(c.id), `${c.serial}-capture-${c.id}.img`);
  /**
   * Per capture, the chunks this process wrote into its image file (index → raw SHA-256). The file
   * is started afresh the first time, so that nothing a stopped server left in it (half-written
   * chunks, a half-sanitised image) is taken for written: finishing fills in what is not listed here.
   */
  const writtenSets = new Map<number, Promise<Map<number, string>>>();
  const writtenFor = (c: Capture) => {
    let w = writtenSets.get(c.id);
    if (!w) {
      w = rm(imageFile(c), { force: true }).then(() => new Map<number, string>());
      writtenSets.set(c.id, w);
    }
    return w;
  };

  async function writeAt(path: string, index: number, raw: Buffer): Promise<void> {
    // Not O_APPEND ('a'): positioned writes; created sparse, what no chunk covers stays a hole of zeros.
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT, PRIVATE_FILE_MODE);
    try {
      const at = index * DEFAULT_CHUNK_SIZE_BYTES;
      for (let done = 0; done < raw.length;)
        done += (await fh.write(raw, done, raw.length - done, at + done)).bytesWritten;
    } finally {
      await fh.close();
    }
  }

  function announce(c: Capture): void {
    emit('capture.status', {
      captureId: c.id,
      serial: c.serial,
      product: c.product,
      version: c.version,
      status: c.status,
      bytesReceived: c.bytesReceived,
      bytesTotal: c.bytesTotal,
      imageId: c.imageId,
      error: c.error,
    });
  }

  async function get(id: number): Promise<Capture> {
    const c = await findCapture(store.db, id);
    if (!c)
      throw new ImageError(
        'IMAGE_CAPTURE_UNKNOWN',
        `Capture ${id} does not exist; list them: rpi-deploy image captures`,
        {
          captureId: id,
        },
      );
    return c;
  }

  async function capturing(id: number): Promise<Capture> {
    const c = await get(id);
    if (c.status !== 'capturing')
      throw new ImageError(
        'IMAGE_CAPTURE_STATE',
        `Capture ${id} is ${c.status}, not capturing: nothing more is taken`,
        {
          captureId: id,
          status: c.status,
        },
      );
    return c;
  }

  async function change(id: number, status: CaptureStatus, extra: { error?: string; imageId?: number } = {}) {
    const c = await updateCapture(store.db, id, {
      status,
      updated_at: now(),
      ...(status !== 'capturing' && { token_sha256: null }),
      ...(extra.error !== undefined && { error: extra.error.slice(0, ERROR_TEXT_MAX) }),
      ...(extra.imageId !== undefined && { image_id: extra.imageId }),
    });
    announce(c);
    return c;
  }

  /**
   * Completes the image file from the chunks: writes each chunk of the layout not already written at
   * its index (sent before a server restart, or the same bytes as another index), zeros what was
   * written where the layout has no chunk, and sets the image size.
   */
  async function completeImage(capture: Capture, layout: Layout): Promise<void> {
    const path = imageFile(capture);
    const written = await writtenFor(capture);
    const wanted = new Map(layout.chunks.map((c) => [c.index, c.sha256]));
    // Zeros where a board wrote a chunk (an earlier attempt) that the final layout no longer has.
    for (const index of written.keys())
      if (!wanted.has(index)) await writeAt(path, index, Buffer.alloc(DEFAULT_CHUNK_SIZE_BYTES));
    const queue = layout.chunks.filter((c) => written.get(c.index) !== c.sha256);
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const { raw, sha256 } = await unpacker.unpack(await readFile(chunkFile(capture.id, next.sha256)));
        if (sha256 !== next.sha256) throw new Error(`stored chunk ${next.sha256} changed on disk`);
        await writeAt(path, next.index, raw);
      }
    };
    await Promise.all(Array.from({ length: ASSEMBLE_PARALLEL }, worker));
    // No fsync: the file is a step on the way to the store, and a server stopped before the import
    // committed starts it afresh (writtenFor); flushing it would only make the disk write it twice.
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT, PRIVATE_FILE_MODE);
    try {
      await fh.truncate(layout.sizeBytes);
    } finally {
      await fh.close();
    }
  }

  /** Raw image from the chunks, sanitised, then imported like any image; the capture ends either way. */
  async function assemble(capture: Capture): Promise<void> {
    const dir = dirOf(capture.id);
    // How long each step took, for the log line: what an operator compares with the board's own time.
    const started = performance.now();
    const took: string[] = [];
    let step = { name: 'completing', since: started };
    const enter = (name: string) => {
      if (name === step.name) return;
      const at = performance.now();
      took.push(`${step.name} ${((at - step.since) / 1000).toFixed(1)} s`);
      step = { name, since: at };
    };
    try {
      const layout = JSON.parse(await readFile(join(dir, 'layout.json'), 'utf8')) as Layout;
      const path = imageFile(capture);
      await completeImage(capture, layout);
      enter('sanitising');
      const report = await deps.sanitise(path, { keep: capture.keep });
      await updateCapture(store.db, capture.id, { sanitise_report: JSON.stringify(report ?? null) });
      // The uploads were checked on receipt: only chunks sanitising changed are compressed again.
      const knownChunks = new Map(layout.chunks.map((c) => [c.sha256, chunkFile(capture.id, c.sha256)]));
      let chunked = { chunksCompressed: 0, chunksReused: 0 };
      const image = await deps.images.import(
        { path },
        { product: capture.product, version: capture.version, notes: capture.notes },
        {
          knownChunks,
          onChunked: (counts) => (chunked = counts),
          onProgress: (p) => {
            enter(p.phase);
            emit('capture.status', {
              captureId: capture.id,
              serial: capture.serial,
              product: capture.product,
              version: capture.version,
              status: `assembling: ${p.phase}`,
              bytesReceived: p.doneBytes,
              bytesTotal: p.totalBytes,
              imageId: null,
              error: null,
            });
          },
        },
      );
      await change(capture.id, 'succeeded', { imageId: image.id });
      enter('done');
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      deps.log.info(
        { captureId: capture.id, imageId: image.id, ...chunked, seconds },
        `capture ${capture.id} is image ${image.id} after ${seconds} s (${took.join(', ')}): ` +
          `${chunked.chunksReused} chunks stored as uploaded, ${chunked.chunksCompressed} compressed again ` +
          '(changed by sanitising, or zeros the board did not read)',
      );
    } catch (err) {
      deps.log.warn({ err, captureId: capture.id }, 'capture assembly failed');
      await change(capture.id, 'failed', { error: `Assembling the image failed: ${(err as Error).message}` });
    } finally {
      writtenSets.delete(capture.id);
      await rm(dir, { recursive: true, force: true });
    }
  }

  async function heldChunks(id: number): Promise<string[]> {
    const names = await readdir(dirOf(id)).catch(ifMissing([] as string[]));
    return names.filter((n) => /^[0-9a-f]{64}\.zst$/.test(n)).map((n) => n.slice(0, 64));
  }

  function startAssembly(capture: Capture): void {
    const job = assemble(capture).finally(() => running.delete(capture.id));
    running.set(capture.id, job);
  }

  return {
    async request(raw) {
      const input = checkSchema(CaptureRequestInput, raw, (p) => {
        throw new ImageError('IMAGE_INPUT_INVALID', `${p.path} ${p.message}`, { field: p.path });
      });
      const serial = deps.parseSerial(input.serial);
      const { code: product } = await deps.products.get(input.product);
      return store.transaction(async (tx) => {
        const clash = await findImageByVersion(tx, product, input.version);
        if (clash)
          throw new ImageError(
            'IMAGE_DUPLICATE',
            `${product} ${input.version} already exists (image ${clash.id}); pick another --version`,
            { imageId: clash.id },
          );
        const open = await findOpenCapture(tx, serial);
        if (open)
          throw new ImageError(
            'IMAGE_CAPTURE_OPEN',
            `Board ${serial} already has capture ${open.id} (${open.status}); cancel it first: rpi-deploy image capture-cancel ${open.id}`,
            { captureId: open.id },
          );
        const c = await insertCapture(tx, {
          serial,
          product_code: product,
          version: input.version,
          notes: input.notes?.trim() || null,
          keep: JSON.stringify(input.keep ?? []),
          status: 'pending',
          created_at: now(),
          updated_at: now(),
        });
        announce(c);
        return c;
      });
    },

    list: (filter = {}) => listCaptures(store.db, filter),
    get,

    async cancel(id) {
      const c = await get(id);
      if (c.status !== 'pending' && c.status !== 'capturing')
        throw new ImageError(
          'IMAGE_CAPTURE_STATE',
          `Capture ${id} is ${c.status}; only a pending or capturing one can be cancelled`,
          { captureId: id, status: c.status },
        );
      const cancelled = await change(id, 'cancelled');
      writtenSets.delete(id);
      await rm(dirOf(id), { recursive: true, force: true });
      return cancelled;
    },

    async claim(raw) {
      const serial = deps.parseSerial(raw);
      const open = await findOpenCapture(store.db, serial);
      if (!open || open.status === 'assembling') return undefined;
      const token = randomBytes(32).toString('base64url');
      await mkdir(dirOf(open.id), { recursive: true, mode: PRIVATE_DIR_MODE });
      await updateCapture(store.db, open.id, { token_sha256: tokenHash(token) });
      const capture = open.status === 'capturing' ? await get(open.id) : await change(open.id, 'capturing');
      return { capture, token, chunkSizeBytes: DEFAULT_CHUNK_SIZE_BYTES };
    },

    async authenticate(token) {
      const c = await findCaptureByToken(store.db, tokenHash(token));
      return c?.status === 'capturing' ? c : undefined;
    },

    async storedChunks(id) {
      await capturing(id);
      return heldChunks(id);
    },

    async receiveChunk(id, sha256, storedSha256, body, index) {
      const capture = await capturing(id);
      const refuse = (why: string) =>
        new ImageError('IMAGE_CAPTURE_CHUNK_INVALID', `Chunk ${sha256} refused: ${why}; send it again`, {
          captureId: id,
          sha256,
        });
      if (body.length > DEFAULT_CHUNK_SIZE_BYTES + CHUNK_BODY_SLACK_BYTES) throw refuse('larger than any chunk');
      if (sha256Of(body) !== storedSha256) throw refuse('the body does not match its X-Stored-Sha256');
      const file = chunkFile(id, sha256);
      const again = await stat(file).then(() => true, ifMissing(false));
      const partial = `${file}.${randomBytes(4).toString('hex')}.part`;
      // Written before it is checked: the check hands the body to a worker thread, which takes it.
      await writeFile(partial, body, { mode: PRIVATE_FILE_MODE, flush: true });
      let unpacked;
      try {
        unpacked = await unpacker.unpack(body).catch((err: Error) => {
          throw refuse(`not a whole zstd frame (${err.message})`);
        });
        if (unpacked.sha256 !== sha256) throw refuse(`it decompresses to ${unpacked.sha256}`);
        if (unpacked.raw.length > DEFAULT_CHUNK_SIZE_BYTES) throw refuse('larger than the chunk size');
      } catch (err) {
        await rm(partial, { force: true });
        throw err;
      }
      if (index !== undefined) {
        // Written before the chunk is listed as held: a cut in between only means it is sent again.
        const written = await writtenFor(capture);
        await writeAt(imageFile(capture), index, unpacked.raw);
        written.set(index, sha256);
      }
      // Renamed into place only whole and checked: a chunk cut off mid-write is never listed as held.
      await rename(partial, file);
      // A chunk sent again (its reply was lost to a cut) is not counted twice.
      const c = await addReceived(store.db, id, again ? 0 : unpacked.raw.length, now());
      const at = Date.now();
      if (at - (lastProgress.get(id) ?? 0) >= PROGRESS_EVERY_MS) {
        lastProgress.set(id, at);
        announce(c);
      }
    },

    async finish(id, result) {
      await capturing(id);
      // What stopped the board (a network gone for minutes, a card it could not read) is shown; the
      // capture stays open with its chunks, so the board's next netboot resumes it.
      if (result.status === 'failed') return change(id, 'pending', { error: `${result.code}: ${result.message}` });
      const chunkCount = Math.ceil(result.sizeBytes / DEFAULT_CHUNK_SIZE_BYTES);
      const held = new Set(await heldChunks(id));
      const seen = new Set<number>();
      for (const c of result.chunks) {
        if (c.index >= chunkCount || seen.has(c.index))
          throw new ImageError('IMAGE_CAPTURE_INCOMPLETE', `Chunk index ${c.index} is repeated or past the image end`, {
            captureId: id,
            index: c.index,
          });
        seen.add(c.index);
      }
      const missing = result.chunks.filter((c) => !held.has(c.sha256));
      if (missing.length > 0)
        throw new ImageError(
          'IMAGE_CAPTURE_INCOMPLETE',
          `${missing.length} of the ${result.chunks.length} chunks were never received (first: index ${missing[0]!.index}); upload them first`,
          { captureId: id, missing: missing.length },
        );
      const layout: Layout = { sizeBytes: result.sizeBytes, chunks: result.chunks };
      await writeFile(join(dirOf(id), 'layout.json'), JSON.stringify(layout), { mode: PRIVATE_FILE_MODE });
      const bytesTotal = result.chunks.reduce(
        (n, c) => n + Math.min(DEFAULT_CHUNK_SIZE_BYTES, result.sizeBytes - c.index * DEFAULT_CHUNK_SIZE_BYTES),
        0,
      );
      await updateCapture(store.db, id, { bytes_total: bytesTotal });
      const assembling = await change(id, 'assembling');
      startAssembly(assembling);
      return assembling;
    },

    settled: async (id) => {
      await running.get(id);
    },

    async recover() {
      for (const c of await listCaptures(store.db, { status: 'assembling' })) startAssembly(c);
      const open = new Set(
        (await Promise.all(OPEN_CAPTURE_STATUSES.map((status) => listCaptures(store.db, { status }))))
          .flat()
          .map((c) => String(c.id)),
      );
      const dirs = await readdir(root).catch(ifMissing([] as string[]));
      for (const d of dirs) if (!open.has(d)) await rm(join(root, d), { recursive: true, force: true });
    },

    async close() {
      await Promise.allSettled(running.values());
      await unpacker.close();
    },
  };
}
