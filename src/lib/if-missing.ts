/**
 * A rejection handler for file-system reads: a path that does not exist reads as `fallback`, any
 * other failure (permission, I/O, a directory where a file belongs) is thrown on, so that a check
 * never passes because it could not look.
 */
export function ifMissing<T>(fallback: T): (err: NodeJS.ErrnoException) => T {
  return (err) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return fallback;
    throw err;
  };
}
