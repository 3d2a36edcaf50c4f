import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import Type, { type Static } from 'typebox';
import { writeTar, type TarEntry } from '../netboot/index.js';
import { formatBytes } from '../protocol/units.js';
import { appliedMigrations, backupDatabase, integrityCheck } from '../store/index.js';
import { OperationsError } from './errors.js';
import { sha256File } from './file-hash.js';

/**
 * `rpi-deploy backup FILE`: one ustar file holding an online copy of the database, the config
 * in use, a manifest of the image store with each file's SHA-256, and (with --with-images) the
 * store's files themselves. Safe while the server runs: the database copy is SQLite's online
 * backup, and image-store files are immutable once published (named by their content).
 */

const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const StoredFile = Type.Object({ path: Type.String(), sizeBytes: Type.Integer({ minimum: 0 }), sha256: Sha256 });
export type StoredFile = Static<typeof StoredFile>;

export const BackupManifest = Type.Object({
  format: Type.Literal(1),
  createdAt: Type.String(),
  rpiDeployVersion: Type.String(),
  /** The last migration of the database copy. */
  schemaVersion: Type.String(),
  database: StoredFile,
  config: Type.Union([StoredFile, Type.Null()]),
  imageStore: Type.Object({
    /** Every chunk and manifest file of `<dataDir>/images` with its SHA-256 (of the stored bytes). */
    files: Type.Array(StoredFile),
    /** The files themselves are in the backup (--with-images). */
    included: Type.Boolean(),
  }),
});
export type BackupManifest = Static<typeof BackupManifest>;

export const BACKUP_MANIFEST = 'backup.json';
export const BACKUP_CONFIG = 'config.yaml';
/** Image-store files as they appear in a backup: only these names are ever written on restore. */
export const IMAGE_STORE_FILE = /^images\/(chunks\/[0-9a-f]{2}\/[0-9a-f]{64}\.zst|manifests\/[0-9a-f]{64}\.json)$/;

export interface BackupOptions {
  dataDir: string;
  /** The database file's name inside the data dir. */
  databaseFile: string;
  /** The config file in use, if any. */
  configFile: string | null;
  withImages: boolean;
  version: string;
  out: (line: string) => void;
}

async function filesUnder(root: string, dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) found.push(...(await filesUnder(root, path)));
    else if (e.isFile()) found.push(relative(root, path));
  }
  return found;
}

async function describe(path: string, name: string): Promise<StoredFile> {
  return { path: name, sizeBytes: (await stat(path)).size, sha256: await sha256File(path) };
}

/** Writes the backup to `file` (via a temporary name, so a failed backup leaves no file that looks whole). */
export async function createBackup(file: string, o: BackupOptions): Promise<BackupManifest> {
  if (!existsSync(dirname(file)))
    throw new OperationsError(
      'OPS_BACKUP_TARGET_INVALID',
      `The folder ${dirname(file)} does not exist; create it or write the backup elsewhere`,
      { file },
    );
  if (existsSync(file))
    throw new OperationsError(
      'OPS_BACKUP_TARGET_INVALID',
      `${file} already exists; choose another name or remove it first`,
      { file },
    );
  if (!existsSync(join(o.dataDir, o.databaseFile))) {
    throw new OperationsError(
      'OPS_BACKUP_NO_DATABASE',
      `There is no database in ${o.dataDir}; name the data dir with --data-dir (or --config)`,
      { dataDir: o.dataDir },
    );
  }
  const work = await mkdtemp(join(dirname(file), `.${basename(file)}.`));
  try {
    const dbCopy = join(work, o.databaseFile);
    const { pages } = await backupDatabase(join(o.dataDir, o.databaseFile), dbCopy);
    const problems = integrityCheck(dbCopy);
    if (problems.join() !== 'ok') {
      throw new OperationsError(
        'OPS_BACKUP_DATABASE_DAMAGED',
        `The database copy fails SQLite's integrity check (${problems.slice(0, 3).join('; ')}); the live database needs repair before a backup`,
        {
          problems,
        },
      );
    }
    o.out(`database: ${pages} pages copied online, integrity_check ok`);
    const images = (await filesUnder(o.dataDir, join(o.dataDir, 'images')))
      .filter((p) => IMAGE_STORE_FILE.test(p))
      .sort();
    const imageFiles: StoredFile[] = [];
    for (const path of images) imageFiles.push(await describe(join(o.dataDir, path), path));
    const bytes = imageFiles.reduce((n, f) => n + f.sizeBytes, 0);
    o.out(
      `image store: ${imageFiles.length} files, ${formatBytes(bytes)}, ${o.withImages ? 'included' : 'listed with checksums (add --with-images to include them)'}`,
    );

    const manifest: BackupManifest = {
      format: 1,
      createdAt: new Date().toISOString(),
      rpiDeployVersion: o.version,
      schemaVersion: appliedMigrations(dbCopy).at(-1) ?? '',
      database: await describe(dbCopy, o.databaseFile),
      config: o.configFile ? await describe(o.configFile, BACKUP_CONFIG) : null,
      imageStore: { files: imageFiles, included: o.withImages },
    };
    const entries: TarEntry[] = [
      { path: BACKUP_MANIFEST, type: 'file', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) },
      { path: o.databaseFile, type: 'file', source: dbCopy },
      ...(o.configFile ? [{ path: BACKUP_CONFIG, type: 'file' as const, source: o.configFile }] : []),
      ...(o.withImages
        ? imageFiles.map((f): TarEntry => ({ path: f.path, type: 'file', source: join(o.dataDir, f.path) }))
        : []),
    ];
    const partial = join(work, 'backup.tar');
    const written = await writeTar(partial, entries);
    await rename(partial, file);
    o.out(
      `wrote ${file}: ${formatBytes(written.sizeBytes)}, schema ${manifest.schemaVersion}${o.configFile ? `, config ${o.configFile}` : ', no config file in use'}`,
    );
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
