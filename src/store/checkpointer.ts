import type { Logger } from '../lib/logger.js';
import { startModuleWorker } from '../lib/module-worker.js';
import type { CheckpointFailure, CheckpointerWorkerData, StopRequest } from './checkpointer.worker.js';

/** How often the background thread folds the write-ahead log back into the database. */
const CHECKPOINT_EVERY_MS = 500;

/**
 * Checkpoints the WAL from a worker thread with its own connection. SQLite's automatic checkpoint
 * runs inside a commit on the event loop and, after a big write (a 100 000-number pool import),
 * stalls every request for hundreds of milliseconds; a PASSIVE checkpoint elsewhere never blocks
 * readers or writers.
 */
export function startCheckpointer(file: string, log: Logger): { stop(): Promise<void> } {
  const workerData: CheckpointerWorkerData = { file, everyMs: CHECKPOINT_EVERY_MS };
  const worker = startModuleWorker(import.meta.url, 'checkpointer', { workerData });
  worker.unref();
  worker.on('message', (m: CheckpointFailure) => {
    if (m.final)
      log.warn({ error: m.error }, 'final WAL checkpoint failed; the log stays and SQLite replays it at the next open');
    else log.warn({ error: m.error }, 'WAL checkpoint failed; it is retried');
  });
  worker.on('error', (err) => log.error({ err }, 'WAL checkpoint thread failed'));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      if (!stopping) {
        // Held alive until the last checkpoint is done, so the log is folded in before the process ends.
        worker.ref();
        const request: StopRequest = 'stop';
        worker.postMessage(request);
        stopping = exited;
      }
      return stopping;
    },
  };
}
