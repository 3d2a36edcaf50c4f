import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../lib/private-dir.js';
import { resolveInside } from '../lib/safe-path.js';

/**
 * The image store on disk, under `<dataDir>/images`:
 *
 *   chunks/<aa>/<sha256>.zst   one zstd frame per distinct raw chunk, named by the raw SHA-256
 *   manifests/<sha256>.json    one image layout per distinct raw image, named by its SHA-256
 *   staging/<pid>-<start>-<random>/  an import in progress (process id and start time); nothing
 *                              here is registered
 *
 * Directories are made 0700 and files 0600: the store is the operator's, not the machine's.
 *
 * Files reach chunks/ and manifests/ only by rename from staging, after an fsync, inside the
 * registering transaction (so a sweep, also run inside a transaction, never sees half an import).
 */
export interface ChunkStore {
  readonly root: string;
  chunkPath(sha256: string): string;
  hasChunk(sha256: string): boolean;
  /** Relative path of a manifest (what the images table records). */
  manifestFile(sha256: string): string;
  readManifest(file: string): Promise<string>;
  readChunk(sha256: string): Promise<Buffer>;
  /** Size of a stored chunk, or null if it is not stored. */
  chunkSize(sha256: string): Promise<number | null>;
  /**
   * A stored chunk's compressed bytes, `start`/`end` inclusive as in HTTP ranges, read in one
   * piece into a reused buffer: call `release` once nothing refers to the bytes any more.
   */
  readChunkRange(sha256: string, start: number, end: number): Promise<PooledBytes>;
  createStaging(): Promise<Staging>;
  /** Removes staging areas whose process is gone (killed mid-import); returns how many. */
  removeDeadStaging(): Promise<number>;
  /** Whether a manifest (a path as `manifestFile` gives it) is stored. */
  hasManifest(file: string): boolean;
  /** Deletes chunks and manifests not named in `keep` (`'all'`: every chunk stays); returns how many files went. */
  sweep(keep: { chunks: ReadonlySet<string> | 'all'; manifests: ReadonlySet<string> }): Promise<number>;
}

/** Bytes in a buffer borrowed from a pool; `release` gives it back (calling it is optional, and once is enough). */
export interface PooledBytes {
  bytes: Buffer;
  release: () => void;
}

/** One import's private area. */
export interface Staging {
  readonly dir: string;
  hasChunk(sha256: string): boolean;
  /** Size of a chunk staged here, if it is. */
  stagedSize(sha256: string): number | undefined;
  writeChunk(sha256: string, compressed: Uint8Array): Promise<void>;
  /**
   * Stages a file that already holds the chunk's compressed bytes and was flushed to disk (a
   * capture's checked upload) as a second name for it: no bytes are read or written again.
   */
  adoptChunk(sha256: string, file: string): Promise<void>;
  readChunk(sha256: string): Promise<Buffer>;
  writeManifest(sha256: string, json: string): Promise<void>;
  /** Moves staged chunks and the manifest into the store; chunks the store already holds stay put. */
  publish(): Promise<void>;
  remove(): Promise<void>;
}

const fileName = (sha256: string) => `${sha256}.zst`;
/**
 * Buffers kept for chunk reads (at most 64 of ~4 MiB while boards download). A fresh buffer per
 * request made the server's garbage collector run a full collection every 64 MB served once its
 * heap had grown (about 70 per card, 1.5 s of CPU); reused ones are not new memory.
 */
const SPARE_READ_BUFFERS = 64;
/** Spare buffers are dropped after this long without a chunk read: a fleet done, memory back. */
const SPARE_READ_IDLE_MS = 30_000;
const READ_BUFFER_MIN_BYTES = 4 * 1024 * 1024 + 64 * 1024;
const PROCESS_STARTED_MS = Math.round(performance.timeOrigin);

async function writeDurably(path: string, data: Uint8Array | string): Promise<void> {
  const fh = await open(path, 'wx', PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Opens (creating its folders) the store under `root`. */
export async function openChunkStore(root: string): Promise<ChunkStore> {
  const chunksDir = join(root, 'chunks');
  const manifestsDir = join(root, 'manifests');
  const stagingDir = join(root, 'staging');
  await Promise.all(
    [chunksDir, manifestsDir, stagingDir].map((d) => mkdir(d, { recursive: true, mode: PRIVATE_DIR_MODE })),
  );
  const chunkPath = (sha256: string) => join(chunksDir, sha256.slice(0, 2), fileName(sha256));
  /** A stored file's real path; a symlink that leads out of the store is refused (PATH_OUTSIDE_ROOT). */
  const inside = (path: string) => resolveInside(root, relative(root, path));
  let spareReads: Buffer[] = [];
  let dropSpares: NodeJS.Timeout | undefined;

  async function createStaging(): Promise<Staging> {
    const dir = join(stagingDir, `${process.pid}-${PROCESS_STARTED_MS}-${randomBytes(6).toString('hex')}`);
    await mkdir(join(dir, 'chunks'), { recursive: true, mode: PRIVATE_DIR_MODE });
    const staged = new Map<string, number>();
    let manifest: string | null = null;
    return {
      dir,
      hasChunk: (sha256) => staged.has(sha256),
      stagedSize: (sha256) => staged.get(sha256),
      async writeChunk(sha256, compressed) {
        await writeDurably(join(dir, 'chunks', fileName(sha256)), compressed);
        staged.set(sha256, compressed.length);
      },
      async adoptChunk(sha256, file) {
        const to = join(dir, 'chunks', fileName(sha256));
        try {
          await link(file, to);
        } catch (e) {
          // A store on another filesystem than the file: the bytes are copied after all.
          if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
          await writeDurably(to, await readFile(file));
        }
        staged.set(sha256, (await stat(to)).size);
      },
      readChunk: (sha256) => readFile(join(dir, 'chunks', fileName(sha256))),
      async writeManifest(sha256, json) {
        await writeDurably(join(dir, 'manifest.json'), json);
        manifest = sha256;
      },
      async publish() {
        const parents = new Set<string>();
        for (const sha256 of staged.keys()) {
          const to = chunkPath(sha256);
          if (!parents.has(dirname(to))) {
            await mkdir(dirname(to), { recursive: true, mode: PRIVATE_DIR_MODE });
            parents.add(dirname(to));
          }
          await rename(join(dir, 'chunks', fileName(sha256)), to);
        }
        if (manifest) await rename(join(dir, 'manifest.json'), join(root, manifestFile(manifest)));
        for (const parent of [...parents, manifestsDir]) await syncDir(parent);
      },
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  }

  const manifestFile = (sha256: string) => join('manifests', `${sha256}.json`);

  return {
    root,
    chunkPath,
    hasChunk: (sha256) => existsSync(chunkPath(sha256)),
    manifestFile,
    readManifest: async (file) => readFile(await inside(join(root, file)), 'utf8'),
    readChunk: async (sha256) => readFile(await inside(chunkPath(sha256))),
    async chunkSize(sha256) {
      try {
        return (await stat(await inside(chunkPath(sha256)))).size;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    async readChunkRange(sha256, start, end) {
      // chunkSize() checked the path; O_NOFOLLOW refuses a symlink put in its place since.
      const fh = await open(chunkPath(sha256), constants.O_RDONLY | constants.O_NOFOLLOW);
      const length = end - start + 1;
      const spare = spareReads.pop();
      const borrowed =
        spare && spare.length >= length ? spare : Buffer.allocUnsafeSlow(Math.max(length, READ_BUFFER_MIN_BYTES));
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        if (spareReads.length < SPARE_READ_BUFFERS) spareReads.push(borrowed);
        (dropSpares ??= setTimeout(() => (spareReads = []), SPARE_READ_IDLE_MS).unref()).refresh();
      };
      try {
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(borrowed, got, length - got, start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return { bytes: borrowed.subarray(0, got), release };
      } catch (err) {
        release();
        throw err;
      } finally {
        await fh.close();
      }
    },
    createStaging,

    async removeDeadStaging() {
      let removed = 0;
      for (const name of await readdir(stagingDir)) {
        const [pid, started] = name.split('-').map(Number);
        // A process id is reused after a restart (pid 1 in a container): the start time tells them apart.
        const ours = pid === process.pid && started === PROCESS_STARTED_MS;
        if (ours || (pid !== process.pid && pid !== undefined && pid > 0 && isAlive(pid))) continue;
        await rm(join(stagingDir, name), { recursive: true, force: true });
        removed++;
      }
      return removed;
    },

    hasManifest: (file) => existsSync(join(root, file)),
    async sweep(keep) {
      let removed = 0;
      for (const sub of keep.chunks === 'all' ? [] : await readdir(chunksDir)) {
        for (const name of await readdir(join(chunksDir, sub))) {
          if (keep.chunks !== 'all' && keep.chunks.has(name.replace(/\.zst$/, ''))) continue;
          await unlink(join(chunksDir, sub, name));
          removed++;
        }
      }
      for (const name of await readdir(manifestsDir)) {
        if (keep.manifests.has(join('manifests', name))) continue;
        await unlink(join(manifestsDir, name));
        removed++;
      }
      return removed;
    },
  };
}
