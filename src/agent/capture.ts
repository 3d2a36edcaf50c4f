import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import zlib from 'node:zlib';
import type { TSchema } from 'typebox';
import { analyseDisk, overlapsAny, partitionPastEnd, readPartitionTable } from '../lib/disk/index.js';
import { fileDevice } from '../lib/fat/index.js';
import {
  CaptureChunkList,
  CaptureResultReply,
  capturePaths,
  STORED_SHA256_HEADER,
  type CaptureOrder,
  type CaptureResult,
} from '../protocol/capture.js';
import type { ByteRange } from '../protocol/manifest.js';
import { AgentError, type AgentErrorCode } from './errors.js';
import { readBody, withRetry, type HttpClient, type RetryOptions } from './http.js';
import type { AgentLog } from './log.js';
import { callJson, refusal } from './server-client.js';
import type { TargetInfo } from './target.js';

/** What a capture did, for the agent's result (and the benchmark). */
export interface CaptureStats {
  /** Raw image size: the end of the last partition, or the whole card with GPT. */
  sizeBytes: number;
  /** Bytes the partition table and filesystems use: all the agent reads. */
  usedBytes: number;
  chunks: number;
  uploaded: number;
  /** Chunks the server already held (an earlier, cut attempt): read and hashed, not sent again. */
  skipped: number;
  bytesSent: number;
  /** Time reading the card took, summed over reads (the rest overlaps with it). */
  readMs: number;
  durationMs: number;
}

export interface CaptureOutcome {
  captureId: number;
  status: 'success' | 'failed';
  code: AgentErrorCode | null;
  message: string | null;
  stats: CaptureStats;
}

export interface CaptureRunOptions {
  order: CaptureOrder['capture'];
  target: TargetInfo | undefined;
  /** Why the target could not be looked at, if it could not (reported as the capture's failure). */
  targetProblem: AgentError | undefined;
  http: HttpClient;
  retry: RetryOptions;
  signal: AbortSignal;
  log: AgentLog;
  /** Chunks compressed and uploaded at once while the card is read on. */
  parallel: number;
}

type ZstdCompress = (
  buf: Buffer,
  options: { params: Record<number, number> },
  cb: (err: Error | null, out: Buffer) => void,
) => void;

/** Level 3 like the importer (chunk-codec.ts), with zstd's checksum so the server's decode checks it. */
const ZSTD_LEVEL = 3;
/** How often a chunk the server refused as damaged in transit is sent again. */
const CHUNK_SEND_ATTEMPTS = 3;
const RESULT_GIVE_UP_MS = 60_000;

/** The runtime's zstd encoder (Node ≥ 22.15; the board's Node 24 has it), if any. */
function runtimeZstdCompress(): ((raw: Buffer) => Promise<Buffer>) | undefined {
  const z = zlib as unknown as { zstdCompress?: ZstdCompress; constants: Record<string, number> };
  const compress = z.zstdCompress;
  if (typeof compress !== 'function') return undefined;
  const params = { [z.constants['ZSTD_c_compressionLevel']!]: ZSTD_LEVEL, [z.constants['ZSTD_c_checksumFlag']!]: 1 };
  return (raw) =>
    new Promise((resolve, reject) => compress(raw, { params }, (err, out) => (err ? reject(err) : resolve(out))));
}

/** Used ranges that fall inside [from, to), relative to `from`. */
function rangesWithin(ranges: readonly ByteRange[], from: number, to: number): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of ranges) {
    const start = Math.max(from, r.offsetBytes);
    const end = Math.min(to, r.offsetBytes + r.lengthBytes);
    if (end > start) out.push({ offsetBytes: start - from, lengthBytes: end - start });
  }
  return out;
}

/**
 * Opens the card for reading only. On a block device O_EXCL fails while anything holds it (a
 * mounted partition): a mounted filesystem changes under the reader, and the copy would be torn.
 */
async function openForCapture(target: TargetInfo): Promise<FileHandle> {
  const flags = constants.O_RDONLY | (target.kind === 'block' ? constants.O_EXCL : 0);
  return open(target.path, flags).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'EBUSY')
      throw new AgentError(
        'AGENT_TARGET_MOUNTED',
        `Card ${target.path} is busy (mounted or opened elsewhere); a capture reads it unmounted`,
        { target: target.path },
        { cause },
      );
    throw new AgentError(
      'AGENT_CAPTURE_FAILED',
      `Cannot open ${target.path} for reading: ${cause.message}`,
      { target: target.path },
      { cause },
    );
  });
}

/**
 * Captures the board's own card for the server: reads the partition table, then only the bytes
 * the partition table and filesystems use (the same analysis an import makes), cut at the
 * importer's chunk boundaries. Free space inside a chunk is sent as zeros. Each chunk is hashed,
 * compressed and uploaded with both hashes, a few at once while the card is read on, so reading
 * sets the pace; chunks the server already holds (a cut attempt before) are not sent again. Never
 * throws for an expected failure: it is reported to the server and returned.
 */
export async function runCapture(o: CaptureRunOptions): Promise<CaptureOutcome> {
  const started = performance.now();
  const { order, http } = o;
  const auth = { authorization: `Bearer ${order.token}` };
  const stats: CaptureStats = {
    sizeBytes: 0,
    usedBytes: 0,
    chunks: 0,
    uploaded: 0,
    skipped: 0,
    bytesSent: 0,
    readMs: 0,
    durationMs: 0,
  };
  const outcome: CaptureOutcome = { captureId: order.id, status: 'failed', code: null, message: null, stats };
  let fh: FileHandle | undefined;

  const json = <S extends TSchema>(
    what: string,
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    body?: unknown,
    patience = o.retry,
  ) => callJson(http, { what, method, path, schema, json: body, headers: auth }, patience);

  async function upload(index: number, sha256: string, raw: Buffer, compress: (raw: Buffer) => Promise<Buffer>) {
    const body = await compress(raw);
    const storedSha256 = createHash('sha256').update(body).digest('hex');
    for (let attempt = 1; ; attempt++) {
      try {
        await withRetry(
          `chunk ${index} upload`,
          async () => {
            const res = await http.send({
              method: 'PUT',
              path: capturePaths.chunk(order.id, sha256, index),
              bytes: body,
              headers: { 'content-type': 'application/zstd', [STORED_SHA256_HEADER]: storedSha256, ...auth },
              signal: o.signal,
            });
            const reply = await readBody(res.body, 64 * 1024, o.signal);
            if (res.status !== 200) throw refusal(`chunk ${index} upload`, res, reply);
          },
          o.retry,
        );
        break;
      } catch (err) {
        // The server refuses a chunk that arrived damaged; it is sent again, a few times.
        const damaged = err instanceof AgentError && err.details['code'] === 'IMAGE_CAPTURE_CHUNK_INVALID';
        if (!damaged || attempt >= CHUNK_SEND_ATTEMPTS) throw err;
        o.log.warn(`chunk ${index} arrived damaged at the server; sending it again`, { attempt });
      }
    }
    stats.uploaded++;
    stats.bytesSent += body.length;
  }

  try {
    if (o.targetProblem) throw o.targetProblem;
    const target = o.target!;
    const compress = runtimeZstdCompress();
    if (!compress)
      throw new AgentError(
        'AGENT_CAPTURE_FAILED',
        `This Node (${process.versions.node}) has no zstd encoder; capture needs Node ≥ 22.15 (boards run Node 24)`,
        {},
      );
    fh = await openForCapture(target);
    const dev = fileDevice(fh, target.sizeBytes);
    const table = await readPartitionTable(dev);
    if (table.entries.length === 0 || partitionPastEnd(table, dev.sizeBytes))
      throw new AgentError(
        'AGENT_CAPTURE_FAILED',
        `Card ${target.path} has no partition table whose partitions lie inside it (${table.kind}); there is no system to capture`,
        { partitionTable: table.kind },
      );
    const analysis = await analyseDisk(dev, table);
    const ends = [
      ...table.entries.map((e) => e.startBytes + e.sizeBytes),
      ...analysis.usedRanges.map((r) => r.offsetBytes + r.lengthBytes),
    ];
    // With GPT the backup table sits at the card's very end: the image is the whole card.
    stats.sizeBytes = table.kind === 'gpt' ? dev.sizeBytes : Math.max(...ends);
    stats.usedBytes = analysis.usedBytes;
    const size = order.chunkSizeBytes;
    const used: number[] = [];
    for (let i = 0; i * size < stats.sizeBytes; i++)
      if (overlapsAny(analysis.usedRanges, i * size, Math.min(size, stats.sizeBytes - i * size))) used.push(i);
    stats.chunks = used.length;
    o.log.info(`capturing ${target.path}`, {
      captureId: order.id,
      usedBytes: analysis.usedBytes,
      chunks: used.length,
      partitionTable: table.kind,
    });
    const held = new Set((await json('chunk list', 'GET', capturePaths.chunks(order.id), CaptureChunkList)).chunks);

    const sent: CaptureResult & { status: 'success' } = { status: 'success', sizeBytes: stats.sizeBytes, chunks: [] };
    const inFlight = new Set<Promise<void>>();
    let failure: Error | undefined;
    for (const index of used) {
      if (failure) break;
      const from = index * size;
      const raw = Buffer.alloc(Math.min(size, stats.sizeBytes - from));
      const readStarted = performance.now();
      for (const r of rangesWithin(analysis.usedRanges, from, from + raw.length)) {
        for (let done = 0; done < r.lengthBytes;) {
          const { bytesRead } = await fh.read(
            raw,
            r.offsetBytes + done,
            r.lengthBytes - done,
            from + r.offsetBytes + done,
          );
          if (bytesRead === 0)
            throw new AgentError(
              'AGENT_CAPTURE_FAILED',
              `${target.path} ended at ${from + r.offsetBytes + done} bytes`,
              {},
            );
          done += bytesRead;
        }
      }
      stats.readMs += performance.now() - readStarted;
      const sha256 = createHash('sha256').update(raw).digest('hex');
      sent.chunks.push({ index, sha256 });
      if (held.has(sha256)) {
        stats.skipped++;
        continue;
      }
      held.add(sha256);
      const job = upload(index, sha256, raw, compress).then(
        () => void inFlight.delete(job),
        (err: unknown) => {
          inFlight.delete(job);
          failure ??= err instanceof Error ? err : new Error(String(err));
        },
      );
      inFlight.add(job);
      // Read-ahead is bounded: at most `parallel` chunks wait to be compressed or sent.
      if (inFlight.size >= o.parallel) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    await json('capture result', 'POST', capturePaths.result(order.id), CaptureResultReply, sent);
    outcome.status = 'success';
    o.log.info(`captured: ${stats.chunks} chunks, ${stats.uploaded} sent, ${stats.skipped} already held`, {
      captureId: order.id,
      bytesSent: stats.bytesSent,
    });
  } catch (err) {
    const failure =
      err instanceof AgentError
        ? err
        : new AgentError(
            'AGENT_INTERNAL',
            `Unexpected failure: ${(err as Error)?.message ?? String(err)}`,
            {},
            { cause: err },
          );
    outcome.code = failure.code;
    outcome.message = failure.message;
    o.log.warn(`capture failed: ${failure.message}`, { code: failure.code });
    if (failure.code !== 'AGENT_ABORTED') {
      const patience = { signal: AbortSignal.timeout(RESULT_GIVE_UP_MS), giveUpAfterMs: RESULT_GIVE_UP_MS };
      await json(
        'capture failure report',
        'POST',
        capturePaths.result(order.id),
        CaptureResultReply,
        {
          status: 'failed',
          code: failure.code,
          message: failure.message.slice(0, 2000),
        },
        patience,
      ).catch((e: Error) => o.log.warn(`could not report the failure to the server: ${e.message}`));
    }
  } finally {
    await fh?.close();
    stats.readMs = Math.round(stats.readMs);
    stats.durationMs = Math.round(performance.now() - started);
  }
  return outcome;
}
