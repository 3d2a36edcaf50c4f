import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { startCheckpointer } from './checkpointer.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => (dir = tempDir()));
afterEach(() => dir.remove());

/** A logger that keeps what it is told, to show that nothing went wrong on the way. */
function recordingLog() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino(
    { level: 'debug' },
    { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  return { log, problems: () => lines.filter((l) => l.level >= 40).map((l) => l.msg) };
}

describe('WAL checkpointer (a worker thread)', () => {
  it('folds the log into the database while it runs and truncates it when stopped', async () => {
    const file = join(dir.path, 'wal.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('create table t (v blob)');
    const insert = db.prepare('insert into t values (?)');
    for (let i = 0; i < 200; i++) insert.run(Buffer.alloc(4096, i));
    const dbBytesBefore = statSync(file).size;
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(200 * 4096);

    const { log, problems } = recordingLog();
    const checkpointer = startCheckpointer(file, log);
    const deadline = Date.now() + 10_000;
    while (statSync(file).size === dbBytesBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(statSync(file).size).toBeGreaterThan(200 * 4096);
    await checkpointer.stop();
    expect(statSync(`${file}-wal`).size).toBe(0);
    expect(problems()).toEqual([]);
    db.close();
  });

  it('reports a database it cannot open instead of failing unseen', async () => {
    const { log, problems } = recordingLog();
    const checkpointer = startCheckpointer(join(dir.path, 'missing', 'x.db'), log);
    await checkpointer.stop();
    expect(problems()).toEqual(['WAL checkpoint thread failed']);
  });
});
