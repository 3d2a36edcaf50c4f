import { setTimeout as sleep } from 'node:timers/promises';
import {
  VERIFIED_CHUNKS_PER_REPORT_MAX,
  type AgentPhase,
  type ProgressReply,
  type ProgressReport,
} from '../protocol/agent-api.js';
import type { WriteStats } from '../protocol/imaging.js';
import { AgentError, TransientError } from './errors.js';

/** Bytes-per-second over the last few seconds of (time, bytes) samples. */
export function rateOf(samples: readonly { atMs: number; bytes: number }[]): number {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last || last.atMs <= first.atMs) return 0;
  return Math.round(((last.bytes - first.bytes) * 1000) / (last.atMs - first.atMs));
}

const RATE_WINDOW_MS = 5_000;

export interface ProgressReporter {
  /** Queues a phase change; every phase reaches the server, in order, even across failed reports. */
  phase(phase: AgentPhase): void;
  setTotal(bytes: number): void;
  /** A chunk is on the card (a rewrite of the same chunk counts once). */
  written(chunk: ChunkExtent): void;
  /** A chunk read back right; it counts as written too (a resumed chunk is verified without a write). */
  verified(chunk: ChunkExtent): void;
  /** Sends queued phases now and waits until the server has them all, or `giveUpAfterMs` passed. */
  drain(giveUpAfterMs: number): Promise<void>;
  /** Verified chunks no report has delivered yet (the result carries them). */
  unsent(): number[];
  stop(): void;
  /** Snapshot for a caller that shows progress (the simulator). */
  snapshot(): {
    phase: AgentPhase | null;
    bytesWritten: number;
    bytesDone: number;
    bytesTotal: number;
    rateBytesPerSec: number;
  };
}

/** What the reporter needs to know of a manifest chunk. */
export interface ChunkExtent {
  index: number;
  sizeBytes: number;
}

/**
 * Reports progress on a fixed beat (R14): bytes written and bytes verified apart, because
 * read-back verification goes in batches (32 MiB by default) and a bar of verified bytes alone
 * stands still on a small image. Speed comes from written bytes, which move steadily.
 * One report is in flight at a time; a report that
 * fails is simply superseded by the next, except phase changes and verified chunks, which stay
 * queued until the server acknowledged them. A server that says the deployment ended stops the
 * agent through `onStop`.
 */
export function startProgressReporter(o: {
  send(report: ProgressReport): Promise<ProgressReply>;
  intervalMs: number;
  onStop(err: AgentError): void;
  onWarn(message: string): void;
  /** Chunks reused, written and read so far, sent with each report once the write has started. */
  writeStats?: () => WriteStats | undefined;
  /** Chunks that came from peers so far (fleet mode), sent with each report once known. */
  chunksFromPeers?: () => number | undefined;
}): ProgressReporter {
  const phases: AgentPhase[] = [];
  let current: AgentPhase | null = null;
  let bytesWritten = 0;
  let bytesDone = 0;
  let bytesTotal = 0;
  const writtenChunks = new Set<number>();
  let verified: number[] = [];
  const samples: { atMs: number; bytes: number }[] = [];
  let inFlight: Promise<void> | undefined;
  let ended = false;

  function sample(): number {
    const atMs = performance.now();
    samples.push({ atMs, bytes: bytesWritten });
    while (samples.length > 2 && samples[0]!.atMs < atMs - RATE_WINDOW_MS) samples.shift();
    return rateOf(samples);
  }

  async function report(): Promise<void> {
    const phase = phases[0] ?? current;
    if (!phase) return;
    const batch = verified.slice(0, VERIFIED_CHUNKS_PER_REPORT_MAX);
    const writeStats = o.writeStats?.();
    const chunksFromPeers = o.chunksFromPeers?.();
    try {
      const reply = await o.send({
        phase,
        bytesWritten,
        bytesDone,
        bytesTotal,
        rateBytesPerSec: sample(),
        verifiedChunks: batch,
        ...(writeStats && { writeStats }),
        ...(chunksFromPeers !== undefined && { chunksFromPeers }),
      });
      if (phases[0] === phase) phases.shift();
      verified = verified.slice(batch.length);
      if (reply.status === 'success' || reply.status === 'failed') {
        end();
        o.onStop(
          new AgentError(
            'AGENT_SUPERSEDED',
            `The server ended this deployment (${reply.status}); another enrollment of this board replaced it`,
            { status: reply.status },
          ),
        );
      }
    } catch (err) {
      if (err instanceof TransientError) o.onWarn(`progress report not delivered: ${err.message}`);
      else if (err instanceof AgentError && err.code !== 'AGENT_ABORTED') {
        end();
        o.onStop(err);
      }
    }
  }

  function tick(): Promise<void> {
    if (ended) return Promise.resolve();
    inFlight ??= report().finally(() => (inFlight = undefined));
    return inFlight;
  }

  const tickInBackground = () => void tick().catch((err: Error) => o.onWarn(`progress report failed: ${err.message}`));
  const timer = setInterval(tickInBackground, o.intervalMs);
  function markWritten(chunk: ChunkExtent): void {
    if (writtenChunks.has(chunk.index)) return;
    writtenChunks.add(chunk.index);
    bytesWritten += chunk.sizeBytes;
  }
  function end(): void {
    ended = true;
    clearInterval(timer);
  }
  return {
    phase(p) {
      if (p === current) return;
      current = p;
      phases.push(p);
      tickInBackground();
    },
    setTotal: (bytes) => void (bytesTotal = bytes),
    written: markWritten,
    verified(chunk) {
      markWritten(chunk);
      verified.push(chunk.index);
      bytesDone += chunk.sizeBytes;
    },
    async drain(giveUpAfterMs) {
      const until = Date.now() + giveUpAfterMs;
      while (phases.length > 0 && !ended && Date.now() < until) {
        await inFlight;
        if (phases.length > 0) await tick();
        if (phases.length > 0) await sleep(Math.min(500, o.intervalMs));
      }
    },
    unsent: () => [...verified],
    stop: end,
    snapshot: () => ({ phase: current, bytesWritten, bytesDone, bytesTotal, rateBytesPerSec: rateOf(samples) }),
  };
}
