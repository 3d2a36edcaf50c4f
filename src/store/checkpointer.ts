import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../lib/logger.js';

/** How often the background thread folds the write-ahead log back into the database. */
const CHECKPOINT_EVERY_MS = 500;

// CommonJS on purpose: an eval'd worker cannot import ESM or TypeScript, but it can require.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); }
  catch (err) { parentPort.postMessage({ error: String(err && err.message || err) }); }
}, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(TRUNCATE)'); } catch {}
  db.close();
  parentPort.postMessage({ stopped: true });
});
`;

/**
 * Checkpoints the WAL from a worker thread with its own connection. SQLite's automatic checkpoint
 * runs inside a commit on the event loop and, after a big write (a 100 000-number pool import),
 * stalls every request for hundreds of milliseconds; a PASSIVE checkpoint elsewhere never blocks
 * readers or writers.
 */
export function startCheckpointer(file: string, log: Logger): { stop(): Promise<void> } {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, everyMs: CHECKPOINT_EVERY_MS } });
  worker.unref();
  worker.on('message', (m: { error?: string }) => {
    if (m.error) log.warn({ error: m.error }, 'WAL checkpoint failed; it is retried');
  });
  worker.on('error', (err) => log.error({ err }, 'WAL checkpoint thread failed'));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      if (!stopping) {
        worker.once('message', () => void worker.terminate());
        worker.postMessage('stop');
        stopping = exited;
      }
      return stopping;
    },
  };
}
