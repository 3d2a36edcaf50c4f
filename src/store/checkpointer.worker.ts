import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** What checkpointer.ts hands the worker when it starts it. */
export interface CheckpointerWorkerData {
  file: string;
  everyMs: number;
}

/** Sent to the worker: checkpoint once more, truncating the log, and end. */
export type StopRequest = 'stop';

/** Sent by the worker when a checkpoint fails; `final` for the one at stop. */
export interface CheckpointFailure {
  error: string;
  final: boolean;
}

if (!parentPort) throw new Error('checkpointer.worker.ts runs only as a worker thread (see checkpointer.ts)');
const port = parentPort;
const { file, everyMs } = workerData as CheckpointerWorkerData;
const db = new Database(file);
db.pragma('busy_timeout = 1000');

function checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): void {
  try {
    db.pragma(`wal_checkpoint(${mode})`);
  } catch (err) {
    const failure: CheckpointFailure = {
      error: err instanceof Error ? err.message : String(err),
      final: mode === 'TRUNCATE',
    };
    port.postMessage(failure);
  }
}

const timer = setInterval(() => checkpoint('PASSIVE'), everyMs);
port.on('message', (m: StopRequest) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint('TRUNCATE');
  db.close();
  // Nothing is left to keep the thread alive: it ends, and the parent sees it exit.
  port.close();
});
