import { spawn } from 'node:child_process';
import { BuildError, type BuildErrorCode } from './errors.js';

/** Debian packages that provide the tools the build runs, for the "install it" message. */
const PROVIDED_BY: Record<string, string> = {
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'dpkg-deb': 'dpkg',
  npm: 'npm (Node.js)',
  tar: 'tar',
  'aarch64-linux-gnu-strip': 'binutils-aarch64-linux-gnu',
  'aarch64-linux-gnu-readelf': 'binutils-aarch64-linux-gnu',
};

/**
 * Runs a build tool to completion and returns its stdout. A missing tool or a failure is a
 * `BuildError` with `code` and the tool's last lines of stderr, never a bare exit status.
 */
export function runTool(
  tool: string,
  args: readonly string[],
  o: { cwd?: string; code: BuildErrorCode; what: string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, {
      cwd: o.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (cause: NodeJS.ErrnoException) => {
      if (cause.code === 'ENOENT') {
        reject(
          new BuildError(
            'NETBOOT_BUILD_TOOL_MISSING',
            `${o.what} needs ${tool}, which is not installed; install the Debian package ${PROVIDED_BY[tool] ?? tool}`,
            { tool },
            { cause },
          ),
        );
      } else reject(new BuildError(o.code, `${o.what} failed: ${cause.message}`, { tool }, { cause }));
    });
    child.on('close', (status) => {
      if (status === 0) return resolve(Buffer.concat(out).toString('utf8'));
      const tail = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-6).join('\n');
      reject(
        new BuildError(o.code, `${o.what} failed (${tool} exited with ${status}): ${tail}`, {
          tool,
          args: [...args],
          status,
        }),
      );
    });
  });
}
