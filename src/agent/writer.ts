import type { WriteStats } from '../protocol/imaging.js';
import type { Manifest, ManifestChunk } from '../protocol/manifest.js';
import type { Card } from './card.js';
import type { ChunkFetcher } from './chunk-fetch.js';
import type { ReadFirstPolicy } from './delta.js';
import { AgentError } from './errors.js';
import { sha256Hex } from './sha256.js';
import type { ReadBackPlan } from './verify-sample.js';

/**
 * The partition table lives in the first sector. It stays zero until the very end, so a card
 * whose writing was cut off never boots into half an image: the bootloader finds no partition
 * table and falls back to network boot, and the board resumes.
 */
export const BOOT_SECTOR_BYTES = 512;

/** Chunks that read back wrong are written again this many times before the card is declared bad. */
export const REWRITES_MAX = 2;

export interface WriteOptions {
  manifest: Manifest;
  card: Card;
  fetcher: ChunkFetcher;
  /** Chunk downloads in flight at once. */
  parallel: number;
  /** Written bytes collected before one flush and cold read-back. */
  verifyBatchBytes: number;
  /** Chunks the server says this board verified before; they are read back, not fetched. */
  resumed: ReadonlySet<number>;
  /**
   * Delta re-image: asked chunk by chunk whether to read the card before fetching; a chunk whose
   * hash matches is neither fetched nor written. Undefined: a full write (resumed chunks aside).
   */
  readFirst?: ReadFirstPolicy | undefined;
  /** Which parts of a written chunk are read back (all of it, or a sample). */
  readBack: ReadBackPlan;
  /** Updated as the write goes, for progress reports. */
  counters: WriteCounters;
  signal: AbortSignal;
  onPhase(phase: 'writing' | 'verifying'): void;
  /** Bytes of `chunk` written to the card; called again for a rewrite. */
  onWritten(chunk: ManifestChunk, bytes: number): void;
  onVerified(chunk: ManifestChunk): void;
}

/** What a write did so far, chunk by chunk (the counting part of WriteStats). */
export type WriteCounters = Pick<
  WriteStats,
  | 'chunksReadFirst'
  | 'chunksReused'
  | 'bytesReused'
  | 'chunksWritten'
  | 'bytesWritten'
  | 'bytesReadFirst'
  | 'bytesReadBack'
>;

export const newWriteCounters = (): WriteCounters => ({
  chunksReadFirst: 0,
  chunksReused: 0,
  bytesReused: 0,
  chunksWritten: 0,
  bytesWritten: 0,
  bytesReadFirst: 0,
  bytesReadBack: 0,
});

export interface WriteOutcome {
  /** The image's first sector, to be written last by `writeBootSector`. */
  bootSector: Buffer;
  rewrites: number;
  resumedOk: number;
  /** Time the card reader spent on chunks read first (waiting its turn, reading, hashing); the fetchers write meanwhile. */
  readFirstMs: number;
}

interface Written {
  chunk: ManifestChunk;
  raw: Buffer;
}

/**
 * Writes every used chunk whole at its offset and verifies batches of them from the card itself.
 * Chunk 0 is always fetched (its first sector is written last); the others go through one card
 * reader, in card order, that reads first the chunks verified in an earlier attempt and, in a
 * delta re-image, the chunks the read-first policy asks for: a chunk whose SHA-256 on the card
 * matches the manifest is verified as it is, any other is queued for the fetchers. The fetchers
 * (a few at a time) download, write and verify what is queued while the reader goes on, so the
 * reads overlap the downloads and the writes.
 */
export async function writeImage(o: WriteOptions): Promise<WriteOutcome> {
  const used = o.manifest.chunks.filter((c) => c.used).sort((a, b) => a.offsetBytes - b.offsetBytes);
  const chunk0 = o.manifest.chunks[0];
  if (!chunk0 || chunk0.offsetBytes !== 0 || !chunk0.used)
    throw new AgentError('AGENT_SERVER_REPLY_INVALID', 'The manifest has no used chunk 0 (the partition table)', {});
  const counters = o.counters;
  let bootSector: Buffer | undefined;
  let rewrites = 0;
  let resumedOk = 0;
  let readFirstMs = 0;
  const rewritesOf = new Map<number, number>();
  let pending: Written[] = [];
  let pendingBytes = 0;
  let verifyChain: Promise<void> = Promise.resolve();
  let wroteAny = false;
  // The card reader and the verifier both read the card; a read-back buffer lives until the next read.
  let readLock: Promise<unknown> = Promise.resolve();
  function readCard<T>(offsetBytes: number, lengthBytes: number, use: (bytes: Buffer) => Promise<T> | T): Promise<T> {
    const turn = readLock.then(async () => use(await o.card.readBack(offsetBytes, lengthBytes)));
    // The caller of this turn gets its failure; the lock only orders the reads, so the next one goes on.
    readLock = turn.catch(() => undefined);
    return turn;
  }

  // Whatever was on the card must not boot while it is half overwritten.
  await o.card.writeAt(0, Buffer.alloc(BOOT_SECTOR_BYTES), o.signal);
  await o.card.flush();

  async function write(w: Written): Promise<void> {
    if (!wroteAny) {
      wroteAny = true;
      o.onPhase('writing');
    }
    const data =
      w.chunk.index === 0 ? Buffer.concat([Buffer.alloc(BOOT_SECTOR_BYTES), w.raw.subarray(BOOT_SECTOR_BYTES)]) : w.raw;
    await o.card.writeAt(w.chunk.offsetBytes, data, o.signal);
    if (!rewritesOf.has(w.chunk.index)) {
      counters.chunksWritten++;
      counters.bytesWritten += data.length;
    }
    o.onWritten(w.chunk, data.length);
  }

  /** Whether the card holds the whole chunk as the manifest hashes it (never asked of chunk 0). */
  function hashMatchesOnCard(chunk: ManifestChunk): Promise<boolean> {
    counters.chunksReadFirst++;
    counters.bytesReadFirst += chunk.sizeBytes;
    return readCard(chunk.offsetBytes, chunk.sizeBytes, async (onCard) => (await sha256Hex(onCard)) === chunk.sha256);
  }

  /**
   * Whether the card holds what was written, compared byte for byte with the verified bytes still
   * in memory over the spans the read-back plan names. Chunk 0's first sector is held back (zero
   * on the card until the end) and left out.
   */
  async function writtenMatches(w: Written): Promise<boolean> {
    const skip = w.chunk.index === 0 ? BOOT_SECTOR_BYTES : 0;
    for (const span of o.readBack(w.chunk)) {
      const from = Math.max(span.from, skip);
      if (from >= span.to) continue;
      counters.bytesReadBack += span.to - from;
      const same = await readCard(w.chunk.offsetBytes + from, span.to - from, (onCard) =>
        onCard.equals(w.raw.subarray(from, span.to)),
      );
      if (!same) return false;
    }
    return true;
  }

  async function verify(batch: Written[]): Promise<void> {
    while (batch.length > 0) {
      await o.card.flush();
      const wrong: Written[] = [];
      for (const w of batch) {
        if (await writtenMatches(w)) o.onVerified(w.chunk);
        else wrong.push(w);
      }
      for (const w of wrong) {
        const n = (rewritesOf.get(w.chunk.index) ?? 0) + 1;
        if (n > REWRITES_MAX) {
          throw new AgentError(
            'AGENT_VERIFY_MISMATCH',
            `Chunk ${w.chunk.index} (bytes ${w.chunk.offsetBytes}–${w.chunk.offsetBytes + w.chunk.sizeBytes}) reads back wrong after ${REWRITES_MAX} rewrites; the card is faulty`,
            { chunk: w.chunk.index, offsetBytes: w.chunk.offsetBytes },
          );
        }
        rewritesOf.set(w.chunk.index, n);
        rewrites++;
        await write(w);
      }
      batch = wrong;
    }
  }

  /**
   * Verifies what is pending, one batch at a time in the order asked. Fetching and writing go on
   * while a batch is read back; a writer waits only when another batch is already queued behind
   * it, which bounds the chunks held in memory to about three batches.
   */
  let queued = 0;
  function verifyPending(): Promise<void> {
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    queued++;
    verifyChain = verifyChain.then(() => verify(batch)).finally(() => queued--);
    return verifyChain;
  }

  async function fetchAndWrite(chunk: ManifestChunk, signal: AbortSignal): Promise<void> {
    const raw = await o.fetcher.fetch(chunk, signal);
    if (chunk.index === 0) bootSector = Buffer.from(raw.subarray(0, BOOT_SECTOR_BYTES));
    await write({ chunk, raw });
    pending.push({ chunk, raw });
    pendingBytes += raw.length;
    if (pendingBytes < o.verifyBatchBytes) return;
    const done = verifyPending();
    // Failures surface here or at the final await of the chain; never unhandled.
    done.catch(() => undefined);
    if (queued > 1) await done;
  }

  const queue = new ChunkQueue();
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let failure: { error: unknown } | undefined;
  const fail = (err: unknown) => {
    failure ??= { error: err };
    stop.abort();
    queue.close();
  };

  // Chunk 0 first: its first sector is needed to verify it.
  queue.push(chunk0);
  async function readAhead(): Promise<void> {
    for (const chunk of used) {
      if (chunk.index === 0) continue;
      if (failure) return;
      signal.throwIfAborted();
      const resumed = o.resumed.has(chunk.index);
      if (!resumed && !o.readFirst?.readNext(chunk.index)) {
        queue.push(chunk);
        continue;
      }
      const asked = performance.now();
      const matched = await hashMatchesOnCard(chunk);
      readFirstMs += performance.now() - asked;
      if (!resumed) o.readFirst!.record(matched);
      if (!matched) {
        queue.push(chunk);
        continue;
      }
      if (resumed) resumedOk++;
      counters.chunksReused++;
      counters.bytesReused += chunk.sizeBytes;
      o.onVerified(chunk);
    }
  }
  const fetchers = Array.from({ length: Math.max(1, o.parallel) }, async () => {
    for (let chunk = await queue.take(); chunk && !failure; chunk = await queue.take()) {
      try {
        await fetchAndWrite(chunk, signal);
      } catch (err) {
        fail(err);
      }
    }
  });
  await Promise.all([
    readAhead()
      .catch(fail)
      .finally(() => queue.close()),
    ...fetchers,
  ]);
  if (failure) throw failure.error;
  o.onPhase('verifying');
  await verifyPending();
  return { bootSector: bootSector!, rewrites, resumedOk, readFirstMs: Math.round(readFirstMs) };
}

/** Chunks waiting to be fetched: the card reader adds them while the fetchers take them. */
class ChunkQueue {
  private readonly items: ManifestChunk[] = [];
  private readonly waiting: ((chunk: ManifestChunk | undefined) => void)[] = [];
  private closed = false;

  push(chunk: ManifestChunk): void {
    const taker = this.waiting.shift();
    if (taker) taker(chunk);
    else this.items.push(chunk);
  }

  /** No more chunks will come; fetchers waiting get undefined once the queue is empty. */
  close(): void {
    this.closed = true;
    for (const taker of this.waiting.splice(0)) taker(undefined);
  }

  take(): Promise<ManifestChunk | undefined> {
    const chunk = this.items.shift();
    if (chunk || this.closed) return Promise.resolve(chunk);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** The last step of every write: the partition table, flushed and read back. */
export async function writeBootSector(card: Card, bootSector: Buffer, signal: AbortSignal): Promise<void> {
  for (let attempt = 0; attempt <= REWRITES_MAX; attempt++) {
    await card.writeAt(0, bootSector, signal);
    await card.flush();
    if ((await card.readBack(0, BOOT_SECTOR_BYTES)).equals(bootSector)) return;
  }
  throw new AgentError(
    'AGENT_VERIFY_MISMATCH',
    `The partition table (sector 0) reads back wrong after ${REWRITES_MAX} rewrites; the card is faulty`,
    { chunk: 0 },
  );
}

/** A manifest the writer can trust: chunk i at i × chunk size, sizes adding up to the image. */
export function checkManifest(m: Manifest): void {
  let offset = 0;
  m.chunks.forEach((c, i) => {
    const lastOk = i === m.chunks.length - 1 ? c.sizeBytes <= m.chunkSizeBytes : c.sizeBytes === m.chunkSizeBytes;
    if (c.index !== i || c.offsetBytes !== offset || !lastOk) {
      throw new AgentError(
        'AGENT_SERVER_REPLY_INVALID',
        `Manifest chunk ${i} is out of place (index ${c.index}, offset ${c.offsetBytes}, ${c.sizeBytes} bytes)`,
        { chunk: i },
      );
    }
    offset += c.sizeBytes;
  });
  if (offset !== m.sizeBytes)
    throw new AgentError(
      'AGENT_SERVER_REPLY_INVALID',
      `Manifest chunks cover ${offset} bytes, the image has ${m.sizeBytes}`,
      {},
    );
}
