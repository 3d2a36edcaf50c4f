import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bin/rpi-deploy.js of this installation: what a person runs, and what the service unit runs. */
export const CLI_ENTRY = fileURLToPath(new URL('../../bin/rpi-deploy.js', import.meta.url));

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    // A dangling link or a directory that went away names nothing runnable: not this installation.
    return undefined;
  }
}

/**
 * How to run this installation's CLI, for the commands the CLI prints: `rpi-deploy` when that name
 * on the PATH is this installation (after `npm link` or a global install); `npx rpi-deploy` inside
 * the checkout, where npm finds the package's own bin; otherwise the entry point by its path. A
 * checkout does not put `rpi-deploy` on the PATH, so a bare name would tell people to run a
 * command their shell does not know.
 */
export function cliCommand(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
  entry: string = CLI_ENTRY,
): string {
  const target = real(entry);
  for (const dir of (env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'rpi-deploy');
    if (target !== undefined && existsSync(candidate) && real(candidate) === target) return 'rpi-deploy';
  }
  const root = real(dirname(dirname(entry)));
  const here = real(cwd);
  if (root !== undefined && here !== undefined && (here === root || here.startsWith(root + sep)))
    return 'npx rpi-deploy';
  return `node ${entry}`;
}
