import type { Manifest, ManifestChunk } from '../protocol/manifest.js';
import type { Card } from './card.js';
import type { ChunkFetcher } from './chunk-fetch.js';
import { AgentError } from './errors.js';
import { sha256Hex } from './sha256.js';

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
  signal: AbortSignal;
  onPhase(phase: 'writing' | 'verifying'): void;
  /** Bytes of `chunk` written to the card; called again for a rewrite. */
  onWritten(chunk: ManifestChunk, bytes: number): void;
  onVerified(chunk: ManifestChunk): void;
}

export interface WriteOutcome {
  /** The image's first sector, to be written last by `writeBootSector`. */
  bootSector: Buffer;
  rewrites: number;
  resumedOk: number;
}

interface Written {
  chunk: ManifestChunk;
  raw: Buffer;
}

/**
 * Fetches every used chunk (a few at a time), writes each whole at its offset, and verifies
 * batches of them from the card itself. Chunks verified in an earlier attempt are read back and
 * fetched again only if they no longer match. Chunk 0 is always fetched: its first sector is
 * written last.
 */
export async function writeImage(o: WriteOptions): Promise<WriteOutcome> {
  const used = o.manifest.chunks.filter((c) => c.used).sort((a, b) => a.offsetBytes - b.offsetBytes);
  const chunk0 = o.manifest.chunks[0];
  if (!chunk0 || chunk0.offsetBytes !== 0 || !chunk0.used)
    throw new AgentError('AGENT_SERVER_REPLY_INVALID', 'The manifest has no used chunk 0 (the partition table)', {});
  const toFetch = used.filter((c) => c.index === 0 || !o.resumed.has(c.index));
  const toRecheck = used.filter((c) => c.index !== 0 && o.resumed.has(c.index));
  let bootSector: Buffer | undefined;
  let rewrites = 0;
  const rewritesOf = new Map<number, number>();
  let pending: Written[] = [];
  let pendingBytes = 0;
  let verifyChain: Promise<void> = Promise.resolve();
  let wroteAny = false;

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
    o.onWritten(w.chunk, data.length);
  }

  /**
   * Whether the card holds the chunk: compared byte for byte with the verified bytes still in
   * memory, or by SHA-256 for a chunk of an earlier attempt (never chunk 0, always fetched anew).
   * Chunk 0's first sector is held back (zero on the card until the end) and left out.
   */
  async function matchesOnCard(chunk: ManifestChunk, raw?: Buffer): Promise<boolean> {
    const onCard = await o.card.readBack(chunk.offsetBytes, chunk.sizeBytes);
    const from = chunk.index === 0 ? BOOT_SECTOR_BYTES : 0;
    if (raw) return onCard.subarray(from).equals(raw.subarray(from));
    return (await sha256Hex(onCard)) === chunk.sha256;
  }

  async function verify(batch: Written[]): Promise<void> {
    while (batch.length > 0) {
      await o.card.flush();
      const wrong: Written[] = [];
      for (const w of batch) {
        if (await matchesOnCard(w.chunk, w.raw)) o.onVerified(w.chunk);
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

  // Chunk 0 first: its first sector is needed to verify it, and resumed chunks are checked against the card.
  await runParallel(toFetch, o.parallel, o.signal, fetchAndWrite);
  o.onPhase('verifying');
  await verifyPending();

  const stale: ManifestChunk[] = [];
  for (const chunk of toRecheck) {
    if (await matchesOnCard(chunk)) o.onVerified(chunk);
    else stale.push(chunk);
  }
  await runParallel(stale, o.parallel, o.signal, fetchAndWrite);
  await verifyPending();
  return { bootSector: bootSector!, rewrites, resumedOk: toRecheck.length - stale.length };
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

/**
 * Runs `fn` over `items` with at most `parallel` in flight, in order. The first failure stops the
 * others (their signal aborts) and is the one thrown.
 */
async function runParallel<T>(
  items: readonly T[],
  parallel: number,
  outer: AbortSignal,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const signal = AbortSignal.any([outer, stop.signal]);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++]!;
      try {
        await fn(item, signal);
      } catch (err) {
        failure ??= { error: err };
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, items.length)) }, worker));
  if (failure) throw failure.error;
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
