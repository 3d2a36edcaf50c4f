import { realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { AppError } from './errors.js';

export type SafePathErrorCode = 'PATH_OUTSIDE_ROOT' | 'PATH_INVALID';

/** A requested path that may not be served: it names something outside its root. */
export class SafePathError extends AppError<SafePathErrorCode> {}

/**
 * The one way a requested path (from a URL, a TFTP request) becomes a file to read: relative
 * only, no `..`, no NUL, no backslash, and after resolving symlinks still inside `root`.
 * Percent-decoding is the caller's job and happens before this check, so `%2e%2e%2f` is caught
 * as `../`. Resolves to the real path of an existing file, or throws (ENOENT passes through so
 * callers can answer "not found").
 */
export async function resolveInside(root: string, requested: string): Promise<string> {
  const path = relativePathParts(requested.replace(/^\/+/, ''), requested).join('/');
  const realRoot = await realpath(root);
  const real = await realpath(join(realRoot, path));
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new SafePathError('PATH_OUTSIDE_ROOT', `Path ${JSON.stringify(requested)} leads outside its root`, {
      requested,
    });
  }
  return real;
}

/**
 * The pure half of the check, for paths inside something that is not a directory of this host
 * (a FAT volume inside an image): refuses NUL, backslashes, empty and absolute paths and any
 * `..`; drops empty and `.` parts. `shown` is what error messages quote (the path as requested).
 */
export function relativePathParts(path: string, shown = path): string[] {
  if (path.includes('\0') || path.includes('\\')) throw invalid(shown, 'contains a NUL byte or a backslash');
  if (path === '' || isAbsolute(path)) throw invalid(shown, 'is empty or absolute');
  const parts = path.split('/');
  if (parts.some((part) => part === '..'))
    throw new SafePathError('PATH_OUTSIDE_ROOT', `Path ${JSON.stringify(shown)} climbs out of its root`, {
      requested: shown,
    });
  const kept = parts.filter((part) => part !== '' && part !== '.');
  if (kept.length === 0) throw invalid(shown, 'is empty or absolute');
  return kept;
}

function invalid(requested: string, why: string): SafePathError {
  return new SafePathError('PATH_INVALID', `Path ${JSON.stringify(requested)} ${why}`, { requested });
}
