import { relativePathParts, SafePathError } from '../safe-path.js';
import { FatError } from './errors.js';

/**
 * Splits a `/`-separated path inside a FAT volume into names (`''` is the root). Paths come
 * from callers that may be hostile (a TFTP request, a URL): lib/safe-path's rules apply, so
 * `..`, absolute paths, NUL and backslashes are refused rather than normalised.
 */
export function splitFatPath(path: string): string[] {
  if (path === '') return [];
  try {
    return relativePathParts(path);
  } catch (e) {
    if (!(e instanceof SafePathError)) throw e;
    throw new FatError(
      'FAT_PATH_INVALID',
      `Path ${JSON.stringify(path)} is not a plain relative path inside the volume`,
      { path },
      { cause: e },
    );
  }
}
