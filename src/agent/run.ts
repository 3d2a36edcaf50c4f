import { AGENT_API_VERSION, type EnrollReply, type VerifyMethod } from '../protocol/agent-api.js';
import type { WriteStats } from '../protocol/imaging.js';
import { runCapture, type CaptureOutcome } from './capture.js';
import { openCard, type Card } from './card.js';
import { createChunkFetcher, largestChunkBody, runtimeZstd, type ChunkFetchStats } from './chunk-fetch.js';
import { customiseCard } from './customise.js';
import { compareTables, createReadFirstPolicy, READ_FIRST_TUNING, type ReadFirstPolicy } from './delta.js';
import { AgentError, type AgentErrorCode } from './errors.js';
import { createHttpClient, type RetryOptions } from './http.js';
import { readMacs, readModel, readSerial, REAL_ROOTS, type SystemRoots } from './identify.js';
import { SILENT_LOG, type AgentLog } from './log.js';
import { startProgressReporter, type ProgressReporter } from './progress.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import { rebootNow } from './reboot.js';
import { createPeerFetcher, PEER_DEFAULTS, type PeerOptions } from './peer-fetch.js';
import { PeerCache } from './peer-server.js';
import { createServerClient, type ServerClient } from './server-client.js';
import { inspectTarget, refuseTooSmall, type TargetInfo } from './target.js';
import { readBackPlan } from './verify-sample.js';
import { checkManifest, newWriteCounters, writeBootSector, writeImage } from './writer.js';

export const AGENT_VERSION = '1.0.0';

/** Everything the agent is told; on a board the CLI fills these from the kernel command line and /proc, /sys. */
export interface AgentOptions {
  /** Base URL of the device API, e.g. `http://192.168.151.1:5001`. */
  server: string;
  /** The card (`/dev/mmcblk0`) or a file standing in for one (it must exist; its size is the capacity). */
  target: string;
  serial?: string | undefined;
  macs?: string[] | undefined;
  model?: string | null | undefined;
  venue?: string | undefined;
  product?: string | undefined;
  bootToken?: string | undefined;
  /** Restart into the new card after success. */
  reboot?: boolean | undefined;
  /** Chunk downloads in flight at once (default 4). */
  parallel?: number | undefined;
  /** Bytes written between two cold read-backs (default 32 MiB). */
  verifyBatchBytes?: number | undefined;
  /** Caps the write rate, e.g. to behave like an SD card in a simulation. */
  writeRateBytesPerSec?: number | undefined;
  /** How long the server may stay unreachable before the agent gives up (default 10 min). */
  retryForMs?: number | undefined;
  /** `false` writes the whole image even where the product allows a delta re-image. */
  delta?: boolean | undefined;
  /** Fleet mode: fetch chunks from the board the server's tracker names, and serve them to others (default on). */
  peers?: boolean | undefined;
  /** Fleet mode's listen address, RAM cache and patience (see PEER_DEFAULTS). */
  peerOptions?: Partial<PeerOptions> | undefined;
  roots?: SystemRoots | undefined;
  log?: AgentLog | undefined;
  /** Opens the card; the default is the real one. Tests wrap it to play a faulty card. */
  openCard?: ((target: TargetInfo, limiter: RateLimiter | undefined) => Promise<Card>) | undefined;
}

export interface AgentResult {
  status: 'success' | 'failed';
  deploymentId: number | null;
  hostname: string | null;
  code: AgentErrorCode | null;
  message: string | null;
  verifyMethod: VerifyMethod | null;
  /** Delta or full, chunks reused and written, bytes read (null before the write began). */
  writeStats: WriteStats | null;
  /** `writeMs`: writing and verifying the image's chunks, of which `readFirstMs` the card reader spent reading first. */
  stats: ChunkFetchStats & {
    bytesWritten: number;
    rewrites: number;
    resumedChunks: number;
    writeMs: number;
    readFirstMs: number;
    durationMs: number;
  };
  /** Set when the server answered enroll with a capture of this board's card instead of a deployment. */
  capture?: CaptureOutcome;
}

const DEFAULTS = { parallel: 4, verifyBatchBytes: 32 * 1024 * 1024, retryForMs: 10 * 60_000 };
/** The failure report gets its own, shorter, patience: the run is over either way. */
const FAILURE_REPORT_GIVE_UP_MS = 60_000;

/**
 * One board's deployment, start to end: identify, check the target, enroll, write and verify,
 * customise, report, reboot. Never throws for an expected failure: every failure is reported to
 * the server (when there is a deployment to report it on) and returned. Success is reported
 * only after every used chunk, the customisation and the partition table were read back right.
 */
export async function runAgent(
  options: AgentOptions,
  outerSignal: AbortSignal = new AbortController().signal,
): Promise<AgentResult> {
  const o = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as AgentOptions & typeof DEFAULTS;
  const log = o.log ?? SILENT_LOG;
  const roots = o.roots ?? REAL_ROOTS;
  const started = performance.now();
  const stopper = new AbortController();
  const signal = AbortSignal.any([outerSignal, stopper.signal]);
  let stopReason: AgentError | undefined;
  const retry: RetryOptions = {
    signal,
    giveUpAfterMs: o.retryForMs,
    onRetry: (what, err, n) =>
      (n === 1 || n % 10 === 0) && log.warn(`${what}: retrying (${err.message})`, { attempt: n }),
  };
  const http = createHttpClient(new URL(o.server), { maxSockets: o.parallel + 2 });
  const client = createServerClient(http, retry);
  const result: AgentResult = {
    status: 'failed',
    deploymentId: null,
    hostname: null,
    code: null,
    message: null,
    verifyMethod: null,
    writeStats: null,
    stats: {
      resumedRequests: 0,
      corruptChunks: 0,
      bytesWritten: 0,
      rewrites: 0,
      resumedChunks: 0,
      writeMs: 0,
      readFirstMs: 0,
      durationMs: 0,
    },
  };
  let enrolled: EnrollReply | undefined;
  let reporter: ProgressReporter | undefined;
  let card: Card | undefined;
  let swarm: { close(): Promise<void> } | undefined;

  try {
    const serial = o.serial ?? (await readSerial(roots));
    if (!serial)
      throw new AgentError(
        'AGENT_IDENTITY_UNKNOWN',
        'No board serial: none in the device tree or /proc/cpuinfo; pass --serial',
        {},
      );
    let target: TargetInfo | undefined;
    let targetProblem: AgentError | undefined;
    try {
      target = await inspectTarget(o.target, roots);
    } catch (err) {
      if (!(err instanceof AgentError)) throw err;
      targetProblem = err;
    }
    const answer = await client.enroll({
      serial,
      macs: o.macs ?? (await readMacs(roots)),
      model: o.model === undefined ? await readModel(roots) : o.model,
      storageBytes: target?.sizeBytes ?? 0,
      agentVersion: `${AGENT_VERSION} api${AGENT_API_VERSION} node${process.versions.node}`,
      ...(o.bootToken && { bootToken: o.bootToken }),
      ...(o.venue && { venue: o.venue }),
      ...(o.product && { product: o.product }),
    });
    if ('capture' in answer) {
      const capture = await runCapture({
        order: answer.capture,
        target,
        targetProblem,
        http,
        retry,
        signal,
        log,
        parallel: o.parallel,
      });
      Object.assign(result, { capture, status: capture.status, code: capture.code, message: capture.message });
      return result;
    }
    enrolled = answer;
    const { plan } = enrolled;
    result.deploymentId = enrolled.deploymentId;
    result.hostname = enrolled.hostname;
    log.info(`enrolled as ${enrolled.hostname}`, {
      deploymentId: enrolled.deploymentId,
      image: `${plan.manifest.product} ${plan.manifest.version}`,
      resumable: plan.verifiedChunks.length,
    });
    if (targetProblem) throw targetProblem;
    refuseTooSmall(target!, plan.manifest.sizeBytes);
    checkManifest(plan.manifest);

    const limiter = o.writeRateBytesPerSec ? createRateLimiter(o.writeRateBytesPerSec) : undefined;
    card = await (o.openCard ?? ((t, l) => openCard(t, { limiter: l, procRoot: roots.proc })))(target!, limiter);
    result.verifyMethod = card.verifyMethod;
    if (card.verifyMethod === 'page-cache')
      log.warn(`${target!.path} allows no O_DIRECT; read-back goes through the page cache`);

    // Decided before the write starts: its first step clears the partition table on the card.
    const { imaging } = plan;
    const verdict =
      imaging.delta && o.delta !== false ? await compareTables(card, target!.sizeBytes, plan.manifest) : undefined;
    const readFirst: ReadFirstPolicy | undefined = verdict?.matches
      ? createReadFirstPolicy(READ_FIRST_TUNING, plan.changedChunks)
      : undefined;
    const fullWriteReason = verdict && !verdict.matches ? `partition table differs: ${verdict.reason}` : undefined;
    if (fullWriteReason) log.info(`full write: ${fullWriteReason}`);
    const counters = newWriteCounters();
    const chunksUsed = plan.manifest.chunks.filter((c) => c.used).length;
    const writeStats = (): WriteStats => ({
      mode: readFirst ? 'delta' : 'full',
      ...(fullWriteReason && { fullWriteReason: fullWriteReason.slice(0, 300) }),
      verify: imaging.verify,
      chunksUsed,
      ...counters,
      readFirstStops: readFirst?.stops ?? 0,
    });
    // Set once the fetchers exist; the peer fetcher counts its chunks in the server fetcher's stats.
    let fetchStats: ChunkFetchStats | undefined;
    reporter = startProgressReporter({
      send: (r) => client.progress(r),
      intervalMs: plan.progressIntervalMs,
      onStop: (err) => {
        stopReason ??= err;
        stopper.abort();
      },
      onWarn: (m) => log.warn(m),
      writeStats,
      chunksFromPeers: () => fetchStats?.fromPeers,
    });
    reporter.setTotal(plan.manifest.chunks.filter((c) => c.used).reduce((n, c) => n + c.sizeBytes, 0));
    reporter.phase('downloading');

    const zstd = runtimeZstd();
    const largestBodyBytes = largestChunkBody(plan.manifest.chunks);
    const peerOptions = { ...PEER_DEFAULTS, ...o.peerOptions };
    // Peers pass on stored (zstd) bodies, so a runtime without zstd cannot take part.
    const cache = o.peers !== false && zstd ? new PeerCache(peerOptions.cacheBytes) : undefined;
    const serverFetcher = createChunkFetcher({
      http,
      deploymentId: enrolled.deploymentId,
      authHeaders: client.authHeaders,
      retry,
      zstd,
      largestBodyBytes,
      onStoredBody: cache && ((c, body) => cache.put(c.storedSha256, body)),
    });
    fetchStats = serverFetcher.stats;
    const peers = cache
      ? await createPeerFetcher({
          server: serverFetcher,
          serverUrl: new URL(o.server),
          client,
          deploymentId: enrolled.deploymentId,
          largestBodyBytes,
          parallel: o.parallel,
          zstd,
          peers: peerOptions,
          log,
          signal,
          cache,
        })
      : undefined;
    swarm = peers;
    const fetcher = peers?.fetcher ?? serverFetcher;
    const writeStarted = performance.now();
    const written = await writeImage({
      manifest: plan.manifest,
      card,
      fetcher,
      parallel: o.parallel,
      verifyBatchBytes: o.verifyBatchBytes,
      resumed: new Set(plan.verifiedChunks),
      readFirst,
      readBack: readBackPlan(imaging.verify, serial),
      counters,
      signal,
      onPhase: (p) => reporter!.phase(p),
      onWritten: (c, n) => {
        result.stats.bytesWritten += n;
        reporter!.written(c);
      },
      onVerified: (c) => reporter!.verified(c),
    });
    Object.assign(result.stats, fetcher.stats, {
      rewrites: written.rewrites,
      resumedChunks: written.resumedOk,
      writeMs: Math.round(performance.now() - writeStarted),
      readFirstMs: written.readFirstMs,
    });
    result.writeStats = writeStats();

    reporter.phase('customizing');
    await customiseCard(card, plan.manifest, plan.customisation);
    await writeBootSector(card, written.bootSector, signal);
    await reporter.drain(o.retryForMs);
    reporter.stop();
    if (stopReason) throw stopReason;
    await client.result({
      status: 'success',
      verifyMethod: card.verifyMethod,
      verifiedChunks: reporter.unsent(),
      writeStats: result.writeStats,
    });
    result.status = 'success';
    log.info(`success: ${enrolled.hostname} written and verified`, {
      bytesWritten: result.stats.bytesWritten,
      verifyMethod: card.verifyMethod,
      mode: result.writeStats.mode,
      chunksReused: result.writeStats.chunksReused,
      chunksWritten: result.writeStats.chunksWritten,
    });
  } catch (err) {
    const failure = stopReason ?? asAgentError(err);
    result.code = failure.code;
    result.message = failure.message;
    log.warn(`failed: ${failure.message}`, { code: failure.code });
    if (failure.code === 'AGENT_INTERNAL') log.warn(String((err as Error)?.stack ?? err));
    if (enrolled && failure.code !== 'AGENT_SUPERSEDED') await reportFailure(client, failure, log);
  } finally {
    reporter?.stop();
    await swarm?.close().catch((err: Error) => log.warn(`stopping the peer server failed: ${err.message}`));
    await card?.close().catch((err: Error) => log.warn(`closing the card failed: ${err.message}`));
    http.close();
    result.stats.durationMs = Math.round(performance.now() - started);
    // Here, not after the try: a capture returns early, and its board goes back into service from
    // its unchanged card just as an imaged board does from its new one. After a failure of either the
    // agent does not reboot: stage 1 shows the failure, then restarts the board to try again.
    if (result.status === 'success' && o.reboot) rebootNow(roots.proc);
  }
  return result;
}

function asAgentError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  return new AgentError(
    'AGENT_INTERNAL',
    `Unexpected failure: ${(err as Error)?.message ?? String(err)}`,
    {},
    { cause: err },
  );
}

async function reportFailure(client: ServerClient, failure: AgentError, log: AgentLog): Promise<void> {
  // The run's own signal may be aborted (that may be why it failed): the report gets its own.
  const patience = { signal: AbortSignal.timeout(FAILURE_REPORT_GIVE_UP_MS), giveUpAfterMs: FAILURE_REPORT_GIVE_UP_MS };
  try {
    await client.result({ status: 'failed', code: failure.code, message: failure.message.slice(0, 2000) }, patience);
  } catch (err) {
    log.warn(`could not report the failure to the server: ${(err as Error).message}`);
  }
}
