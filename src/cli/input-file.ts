import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';

const INPUT_MAX_BYTES = 10 * 1024 * 1024;

/** Why a file given on the command line cannot be read, in words. */
function reason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return err.message;
  }
}

/**
 * The text of a `--file` argument, or standard input for "-" (at most 10 MiB). A file that cannot
 * be read is a command-line mistake: one line that names it and why, exit code 2.
 */
export async function readInputFile(file: string, option = '--file'): Promise<string> {
  if (file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new InvalidArgumentError(
        `cannot read ${option} ${file}: ${reason(err as NodeJS.ErrnoException)}; check the path`,
      );
    }
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > INPUT_MAX_BYTES) throw new InvalidArgumentError('standard input is larger than 10 MiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
