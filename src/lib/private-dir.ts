import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { AppError } from './errors.js';

/** Modes of what rpi-deploy writes under its data directory: only the user it runs as may read it. */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

export type PrivateDirErrorCode = 'DATA_DIR_NOT_PRIVATE';

export class PrivateDirError extends AppError<PrivateDirErrorCode> {}

/**
 * Creates `root` (0700) when it is missing, and takes every group and other permission off it and
 * everything below it: directories become 0700, files 0600 (an owner's execute bit is kept, for
 * the programs a netboot build unpacks). Symbolic links below it are neither followed nor changed. Returns
 * how many entries were changed, so a start can say it tightened an older installation.
 * Synchronous on purpose: it runs once before anything listens, and one promise per entry made
 * it 6x slower (20,480 files, already private: 268 ms synchronous, 1.7 s with fs/promises).
 */
export function makePrivateTree(root: string): number {
  try {
    mkdirSync(root, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (cause) {
    throw new PrivateDirError(
      'DATA_DIR_NOT_PRIVATE',
      `Cannot create the data directory ${root}: ${(cause as Error).message}`,
      { path: root },
      { cause },
    );
  }
  let changed = 0;
  const tighten = (path: string, st: Stats | undefined): void => {
    // Gone between listing and looking: an import's staging files come and go while a CLI command starts.
    if (!st || st.isSymbolicLink()) return;
    const mode = st.mode & 0o7777;
    if ((mode & 0o077) !== 0) {
      try {
        chmodSync(path, mode & 0o700);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw notPrivate(root, path, `Cannot make ${path} private (mode ${mode.toString(8)})`, cause);
      }
      changed++;
    }
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw notPrivate(root, path, `Cannot list ${path}`, cause);
    }
    for (const name of names) {
      const child = join(path, name);
      tighten(child, lstatSync(child, { throwIfNoEntry: false }));
    }
  };
  // The root itself may be a symbolic link to where the data really lives; that is followed.
  tighten(root, statSync(root));
  return changed;
}

function notPrivate(root: string, path: string, what: string, cause: unknown): PrivateDirError {
  return new PrivateDirError(
    'DATA_DIR_NOT_PRIVATE',
    `${what}: ${(cause as Error).message}; everything in ${root} should belong to the user rpi-deploy runs as (chown -R that user ${root})`,
    { path },
    { cause },
  );
}
