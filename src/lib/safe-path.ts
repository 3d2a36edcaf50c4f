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
  if (requested.includes('\0') || requested.includes('\\')) throw invalid(requested, 'contains a NUL byte or a backslash');
  const path = requested.replace(/^\/+/, '');
  if (path === '' || isAbsolute(path)) throw invalid(requested, 'is empty or absolute');
  if (path.split('/').some((part) => part === '..')) throw new SafePathError('PATH_OUTSIDE_ROOT', `Path ${JSON.stringify(requested)} climbs out of its root`, { requested });
  const realRoot = await realpath(root);
  const real = await realpath(join(realRoot, path));
  const rel = relative(realRoot, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new SafePathError('PATH_OUTSIDE_ROOT', `Path ${JSON.stringify(requested)} leads outside its root`, { requested });
  }
  return real;
}

function invalid(requested: string, why: string): SafePathError {
  return new SafePathError('PATH_INVALID', `Path ${JSON.stringify(requested)} ${why}`, { requested });
}
