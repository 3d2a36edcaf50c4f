import { createReadStream, createWriteStream, existsSync, readdirSync } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import Value from 'typebox/value';
import type { Logger } from '../lib/logger.js';
import { integrityCheck, openSqliteStore } from '../store/index.js';
import { BACKUP_CONFIG, BACKUP_MANIFEST, BackupManifest, IMAGE_STORE_FILE, type StoredFile } from './backup.js';
import { OperationsError } from './errors.js';
import { sha256File } from './file-hash.js';
import { tarIndex, type TarEntryAt } from './tar-index.js';

/**
 * `rpi-deploy restore FILE --data-dir DIR`: unpacks a backup into an empty data dir and checks
 * every file against the backup's manifest, the database with SQLite's integrity check, and then
 * opens it as the server would (migrating an older schema, refusing a newer one).
 */

export interface RestoreOptions {
  dataDir: string;
  log: Logger;
  out: (line: string) => void;
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** The schema version after opening (and migrating). */
  schemaVersion: string | null;
  imageFiles: number;
  configFile: string | null;
}

const invalid = (file: string, why: string) =>
  new OperationsError('OPS_RESTORE_INVALID', `${file} is not a usable rpi-deploy backup: ${why}`, { file });

async function readManifest(file: string, entries: Map<string, TarEntryAt>): Promise<BackupManifest> {
  const entry = entries.get(BACKUP_MANIFEST);
  if (!entry) throw invalid(file, `it has no ${BACKUP_MANIFEST}`);
  const fd = await open(file, 'r');
  try {
    const text = Buffer.alloc(entry.size);
    await fd.read(text, 0, entry.size, entry.offset);
    const parsed: unknown = JSON.parse(text.toString('utf8'));
    if (!Value.Check(BackupManifest, parsed))
      throw invalid(file, `${BACKUP_MANIFEST} does not describe a backup this version reads`);
    return parsed;
  } catch (err) {
    if (err instanceof OperationsError) throw err;
    throw invalid(file, `${BACKUP_MANIFEST} is not JSON`);
  } finally {
    await fd.close();
  }
}

/** Copies one entry out of the archive and checks it against the manifest. */
async function extract(file: string, entry: TarEntryAt | undefined, expected: StoredFile, to: string): Promise<void> {
  if (!entry) throw invalid(file, `${expected.path} is missing`);
  await mkdir(dirname(to), { recursive: true });
  if (entry.size > 0)
    await pipeline(
      createReadStream(file, { start: entry.offset, end: entry.offset + entry.size - 1 }),
      createWriteStream(to, { flags: 'wx', mode: 0o600 }),
    );
  else await (await open(to, 'wx', 0o600)).close();
  if (entry.size !== expected.sizeBytes || (await sha256File(to)) !== expected.sha256)
    throw invalid(file, `${expected.path} does not match its SHA-256 in ${BACKUP_MANIFEST} (damaged copy)`);
}

export async function restoreBackup(file: string, o: RestoreOptions): Promise<RestoreResult> {
  if (existsSync(o.dataDir) && readdirSync(o.dataDir).length > 0) {
    throw new OperationsError(
      'OPS_RESTORE_TARGET_NOT_EMPTY',
      `${o.dataDir} is not empty; restore into a new or empty directory (nothing there was changed)`,
      { dataDir: o.dataDir },
    );
  }
  if (!existsSync(file)) throw invalid(file, 'the file does not exist');
  let index: TarEntryAt[];
  try {
    index = await tarIndex(file);
  } catch (err) {
    throw invalid(file, (err as Error).message);
  }
  const entries = new Map(index.filter((e) => e.type === 'file').map((e) => [e.path, e]));
  const manifest = await readManifest(file, entries);
  const created = !existsSync(o.dataDir);
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  try {
    return await unpack(file, entries, manifest, o);
  } catch (err) {
    // The directory was empty: leave it so, and a second attempt can start over.
    if (created) await rm(o.dataDir, { recursive: true, force: true });
    else for (const name of readdirSync(o.dataDir)) await rm(join(o.dataDir, name), { recursive: true, force: true });
    throw err;
  }
}

async function unpack(
  file: string,
  entries: Map<string, TarEntryAt>,
  manifest: BackupManifest,
  o: RestoreOptions,
): Promise<RestoreResult> {
  const dbFile = join(o.dataDir, manifest.database.path);
  if (manifest.database.path.includes('/'))
    throw invalid(file, `the database name ${manifest.database.path} is not a plain file name`);
  await extract(file, entries.get(manifest.database.path), manifest.database, dbFile);
  const problems = integrityCheck(dbFile);
  if (problems.join() !== 'ok')
    throw invalid(file, `the database fails SQLite's integrity check: ${problems.slice(0, 3).join('; ')}`);
  o.out(
    `database: SHA-256 and integrity_check ok (schema ${manifest.schemaVersion}, backed up ${manifest.createdAt} by rpi-deploy ${manifest.rpiDeployVersion})`,
  );

  let configFile: string | null = null;
  if (manifest.config) {
    configFile = join(o.dataDir, BACKUP_CONFIG);
    await extract(file, entries.get(BACKUP_CONFIG), manifest.config, configFile);
    o.out(`config: ${configFile} (its dataDir may name the old place: point it at ${o.dataDir})`);
  }

  let imageFiles = 0;
  if (manifest.imageStore.included) {
    for (const f of manifest.imageStore.files) {
      if (!IMAGE_STORE_FILE.test(f.path)) throw invalid(file, `${f.path} is not an image-store file name`);
      await extract(file, entries.get(f.path), f, join(o.dataDir, f.path));
      imageFiles++;
    }
    o.out(`image store: ${imageFiles} files, each matching its SHA-256`);
  } else if (manifest.imageStore.files.length > 0) {
    o.out(
      `image store: not in this backup; copy the ${manifest.imageStore.files.length} files listed in ${BACKUP_MANIFEST} to ${join(o.dataDir, 'images')} (or import the images again)`,
    );
  }

  // Opening it as the server does applies the migrations of an older backup and refuses a newer one.
  const store = await openSqliteStore({ file: dbFile, log: o.log });
  const health = await store.health();
  await store.close();
  if (health.schemaVersion !== manifest.schemaVersion)
    o.out(`database: migrated from ${manifest.schemaVersion} to ${health.schemaVersion}`);
  return { manifest, schemaVersion: health.schemaVersion, imageFiles, configFile };
}
